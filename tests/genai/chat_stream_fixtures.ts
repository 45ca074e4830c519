/**
 * Shared by the stream reader's tests (openai_stream_test.ts, sse_test.ts):
 * a realistic OpenAI chat stream, its expected summary, and helpers that
 * push a stream through an `OpenAIStreamReader` cut at given offsets.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  OpenAIStreamReader as SseObserver,
  type StreamInfo as SseSummary,
} from "../../src/genai/openai_stream.ts";

export const encoder = new TextEncoder();

export function chatChunk(choices: unknown[], usage: unknown = null): string {
  return "data: " + JSON.stringify({
    id: "chatcmpl-9xYz",
    object: "chat.completion.chunk",
    created: 1730000000,
    model: "gpt-4o-mini-2024-07-18",
    system_fingerprint: "fp_0ba0d124f1",
    choices,
    usage,
  }) + "\n\n";
}

export function delta(
  content: Record<string, unknown>,
  finish: string | null = null,
) {
  return { index: 0, delta: content, logprobs: null, finish_reason: finish };
}

/** A realistic OpenAI chat stream, with multi-byte characters. */
export const CHAT_EVENTS = [
  chatChunk([delta({ role: "assistant", content: "", refusal: null })]),
  chatChunk([delta({ content: "Hé" })]),
  chatChunk([delta({ content: "llo 🌍" })]),
  chatChunk([delta({ content: ", 世界!" })]),
  chatChunk([delta({}, "stop")]),
  chatChunk([], {
    prompt_tokens: 12,
    completion_tokens: 4,
    total_tokens: 16,
    prompt_tokens_details: { cached_tokens: 8, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  }),
  "data: [DONE]\n\n",
];
export const CHAT_STREAM = CHAT_EVENTS.join("");
export const CHAT_BYTES = encoder.encode(CHAT_STREAM);

export const CHAT_SUMMARY: SseSummary = {
  chunks: 6,
  contentChunks: 3,
  id: "chatcmpl-9xYz",
  model: "gpt-4o-mini-2024-07-18",
  finishReasons: ["stop"],
  inputTokens: 12,
  outputTokens: 4,
  cachedInputTokens: 8,
  reasoningOutputTokens: 0,
  done: true,
  outputText: "Héllo 🌍, 世界!",
  // One assistant message per choice, in the message-parts schema.
  outputMessages: [{
    role: "assistant",
    parts: [{ type: "text", content: "Héllo 🌍, 世界!" }],
  }],
  errors: 0,
};

/** Byte offset at which the first content event becomes complete. */
export function firstContentEnd(
  stream: string,
  eventIndex: number,
  blank: string,
): number {
  const events = stream.split(blank);
  const before = events.slice(0, eventIndex + 1).join(blank);
  // The event completes at the first byte that ends its blank line.
  return encoder.encode(before).length + blank.length / 2;
}

export interface Observed {
  summary: SseSummary;
  /** Which pushes returned true. */
  flags: number[];
  endFlag: boolean;
}

export function observe(
  bytes: Uint8Array,
  cuts: number[],
  options?: ConstructorParameters<typeof SseObserver>[0],
): Observed {
  const observer = new SseObserver(options);
  const flags: number[] = [];
  let start = 0;
  const bounds = [...cuts, bytes.length];
  for (let i = 0; i < bounds.length; i++) {
    if (observer.push(bytes.subarray(start, bounds[i]))) flags.push(i);
    start = bounds[i];
  }
  const endFlag = observer.end();
  return { summary: observer.info, flags, endFlag };
}

export function checkEverySplit(
  bytes: Uint8Array,
  expected: SseSummary,
  firstContentAt: number,
) {
  for (let k = 0; k <= bytes.length; k++) {
    const { summary, flags, endFlag } = observe(bytes, [k], {
      captureContent: true,
    });
    assert.deepEqual(summary, expected, `split at ${k}`);
    assert.deepEqual(
      flags,
      [firstContentAt < k ? 0 : 1],
      `flag, split at ${k}`,
    );
    assert.equal(endFlag, false);
  }
}
