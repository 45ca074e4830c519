// Micro-benchmark of the stream readers alone: a 64-token streamed answer
// of each wire API pushed chunk by chunk (one event per chunk), as the
// response follower does. Chat Completions: the bench's answer (+ usage,
// [DONE]); Responses, Messages and Gemini: the same 64 tokens in their
// events (tests/support/wire_apis.ts shapes). Prints µs per stream and ns
// per event. `deno run -A bench/sse_reader.ts` / `bun bench/sse_reader.ts`.
import { OpenAIStreamReader } from "../src/genai/openai_stream.ts";
import { ResponsesStreamReader } from "../src/genai/openai_responses.ts";
import { MessagesStreamReader } from "../src/genai/anthropic_messages.ts";
import { GeminiStreamReader } from "../src/genai/gemini.ts";
import type { GenAIStreamReader } from "../src/genai/wire_stream.ts";
import {
  geminiEvents,
  messagesEvents,
  responsesEvents,
  sseText,
  type WireEvent,
} from "../tests/support/wire_apis.ts";

const enc = new TextEncoder();
const chunks: Uint8Array[] = [];
for (let i = 0; i < 64; i++) {
  chunks.push(enc.encode(`data: ${
    JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      created: 1700000000,
      model: "bench-model",
      choices: [{
        index: 0,
        delta: i === 0
          ? { role: "assistant", content: "tok" }
          : { content: ` t${i}` },
        finish_reason: i === 63 ? "stop" : null,
      }],
    })
  }\n\n`));
}
chunks.push(enc.encode(`data: ${
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1700000000,
    model: "bench-model",
    choices: [],
    usage: { prompt_tokens: 12, completion_tokens: 64, total_tokens: 76 },
  })
}\n\n`));
chunks.push(enc.encode("data: [DONE]\n\n"));

/** The example's preamble and end around 64 copies of its delta event. */
function widen(events: WireEvent[], delta: number, keep: number): Uint8Array[] {
  const out = [
    ...events.slice(0, delta),
    ...Array(64).fill(events[delta]),
    ...events.slice(keep),
  ];
  return out.map((e) => enc.encode(sseText([e])));
}
const responses = responsesEvents();
const STREAMS: [string, () => GenAIStreamReader, Uint8Array[]][] = [
  ["chat", () => new OpenAIStreamReader(), chunks],
  [
    "responses",
    () => new ResponsesStreamReader(),
    widen(responses, 4, responses.length - 4),
  ],
  ["messages", () => new MessagesStreamReader(), widen(messagesEvents(), 3, 5)],
  ["gemini", () => new GeminiStreamReader(), widen(geminiEvents(), 1, 2)],
];

const N = 20_000;
const only = (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ??
  (globalThis as { process?: { argv: string[] } }).process?.argv[2];
for (const [name, make, events] of STREAMS) {
  if (only && only !== name) continue;
  const once = (): number => {
    const r = make();
    for (const c of events) r.push(c);
    r.end();
    return r.info.chunks;
  };
  const expected = once();
  for (let i = 0; i < 2_000; i++) once(); // warm up
  const results: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    let sink = 0;
    for (let i = 0; i < N; i++) sink += once();
    const us = ((performance.now() - t0) * 1000) / N;
    if (sink !== N * expected) throw new Error(`wrong count ${sink}`);
    results.push(us);
  }
  results.sort((a, b) => a - b);
  const median = results[2];
  console.log(
    `${"Deno" in globalThis ? "deno" : "bun"} ${name}: ${
      median.toFixed(2)
    } µs/stream, ` +
      `${
        ((median * 1000) / events.length).toFixed(0)
      } ns/event (${events.length} events, min ${results[0].toFixed(2)})`,
  );
}
