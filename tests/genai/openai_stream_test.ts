// What the stream reader (src/genai/openai_stream.ts) makes of an OpenAI
// chat or completions stream: chunks, content, ids, finish reasons, usage,
// errors, the captured text, and the skip-parse shortcut of event_scan.ts.
// How the bytes are framed (line ends, chunk boundaries, limits) is in
// sse_test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  OpenAIStreamReader as SseObserver,
  type StreamInfo as SseSummary,
} from "../../src/genai/openai_stream.ts";
import {
  CHAT_BYTES,
  CHAT_EVENTS,
  CHAT_SUMMARY,
  chatChunk,
  checkEverySplit,
  delta,
  encoder,
  firstContentEnd,
  observe,
} from "./chat_stream_fixtures.ts";

test("sse: a realistic chat stream in one chunk", () => {
  const { summary, flags, endFlag } = observe(CHAT_BYTES, [], {
    captureContent: true,
  });
  assert.deepEqual(summary, CHAT_SUMMARY);
  assert.deepEqual(flags, [0]);
  assert.equal(endFlag, false);
});

test("sse: without captureContent there is no outputText", () => {
  const { summary } = observe(CHAT_BYTES, []);
  const { outputText: _, outputMessages: __, ...expected } = CHAT_SUMMARY;
  assert.deepEqual(summary, expected);
  assert.equal("outputText" in summary, false);
});

test("sse: the role chunk with empty content is not content", () => {
  const observer = new SseObserver();
  assert.equal(observer.push(encoder.encode(CHAT_EVENTS[0])), false);
  assert.equal(observer.info.contentChunks, 0);
  assert.equal(observer.info.chunks, 1);
  assert.equal(observer.push(encoder.encode(CHAT_EVENTS[1])), true);
  assert.equal(observer.push(encoder.encode(CHAT_EVENTS[2])), false);
  assert.equal(observer.info.contentChunks, 2);
});

test("sse: multiple choices (n=2) in index order", () => {
  const c = (index: number, d: Record<string, unknown>, f: string | null) => ({
    index,
    delta: d,
    logprobs: null,
    finish_reason: f,
  });
  const stream = [
    chatChunk([c(0, { role: "assistant", content: "" }, null)]),
    chatChunk([c(1, { role: "assistant", content: "" }, null)]),
    chatChunk([c(1, { content: "B1" }, null)]),
    chatChunk([c(0, { content: "A1" }, null)]),
    chatChunk([c(1, { content: "B2" }, null), c(0, { content: "A2" }, null)]),
    chatChunk([c(1, {}, "length")]),
    chatChunk([c(0, {}, "stop")]),
    chatChunk([], { prompt_tokens: 5, completion_tokens: 8 }),
    "data: [DONE]\n\n",
  ].join("");
  const expected: SseSummary = {
    chunks: 8,
    contentChunks: 3,
    id: "chatcmpl-9xYz",
    model: "gpt-4o-mini-2024-07-18",
    finishReasons: ["stop", "length"],
    inputTokens: 5,
    outputTokens: 8,
    done: true,
    outputText: "A1A2B1B2",
    // One message per choice, in index order, no finish_reason in them.
    outputMessages: [
      { role: "assistant", parts: [{ type: "text", content: "A1A2" }] },
      { role: "assistant", parts: [{ type: "text", content: "B1B2" }] },
    ],
    errors: 0,
  };
  const bytes = encoder.encode(stream);
  checkEverySplit(bytes, expected, firstContentEnd(stream, 2, "\n\n"));
});

test("sse: a completions (text) stream", () => {
  const event = (text: string, finish: string | null, usage?: unknown) =>
    "data: " + JSON.stringify({
      id: "cmpl-8abc",
      object: "text_completion",
      created: 1730000000,
      choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
      model: "gpt-3.5-turbo-instruct",
      ...(usage === undefined ? {} : { usage }),
    }) + "\n\n";
  const stream = event("", null) + event("Once", null) + event(" upon", null) +
    event("", "length", {
      prompt_tokens: 3,
      completion_tokens: 2,
      total_tokens: 5,
    }) +
    "data: [DONE]\n\n";
  const expected: SseSummary = {
    chunks: 4,
    contentChunks: 2,
    id: "cmpl-8abc",
    model: "gpt-3.5-turbo-instruct",
    finishReasons: ["length"],
    inputTokens: 3,
    outputTokens: 2,
    done: true,
    outputText: "Once upon",
    outputMessages: [
      { role: "assistant", parts: [{ type: "text", content: "Once upon" }] },
    ],
    errors: 0,
  };
  checkEverySplit(
    encoder.encode(stream),
    expected,
    firstContentEnd(stream, 1, "\n\n"),
  );
});

test("sse: tool calls and reasoning count as content, not as text", () => {
  const stream = chatChunk([delta({ role: "assistant", content: null })]) +
    chatChunk([delta({ reasoning_content: "Thinking" })]) +
    chatChunk([delta({
      tool_calls: [{
        index: 0,
        id: "call_1",
        type: "function",
        function: { name: "f", arguments: "" },
      }],
    })]) +
    chatChunk([delta({ tool_calls: [] })]) +
    chatChunk([delta({}, "tool_calls")]);
  const { summary, flags } = observe(encoder.encode(stream), [], {
    captureContent: true,
  });
  assert.equal(summary.chunks, 5);
  assert.equal(summary.contentChunks, 2);
  assert.deepEqual(summary.finishReasons, ["tool_calls"]);
  assert.equal(summary.outputText, undefined);
  assert.equal(summary.done, false);
  assert.deepEqual(flags, [0]);
});

test("sse: malformed and non-object JSON events are errors, not chunks", () => {
  const stream = CHAT_EVENTS[0] +
    'data: {"choices":[{"delta":{"content":"x"}\n\n' + // truncated JSON
    "data: 42\n\n" + // valid JSON, not an object
    "data: null\n\n" +
    "data: \n\n" + // empty data
    CHAT_EVENTS.slice(1).join("");
  const { summary } = observe(encoder.encode(stream), [], {
    captureContent: true,
  });
  assert.deepEqual(summary, { ...CHAT_SUMMARY, errors: 4 });
});

test("sse: usage is taken from the last event that has it; null usage is ignored", () => {
  const stream = chatChunk([delta({ content: "a" })], {
    prompt_tokens: 7,
    completion_tokens: 1,
  }) +
    chatChunk([delta({ content: "b" })], null) +
    chatChunk([delta({}, "stop")], {
      prompt_tokens: 7,
      completion_tokens: 2,
      prompt_tokens_details: { cached_tokens: 0 },
    }) +
    chatChunk([], { prompt_tokens: "7", completion_tokens: -1 });
  const { summary } = observe(encoder.encode(stream), []);
  assert.equal(summary.inputTokens, 7);
  assert.equal(summary.outputTokens, 2);
  assert.equal(summary.cachedInputTokens, 0);
});

test("sse: the skip-parse shortcut never hides a finish reason, usage or error", () => {
  // After the first content event, events whose finish_reason, usage and
  // error are null or absent are counted without JSON.parse. Hand-written
  // JSON (any JSON whitespace, keys inside string values) must still reach
  // the parser whenever one of them has a value.
  const head = chatChunk([delta({ content: "a" })]);
  const raw = (json: string) => `data: ${json}\n\n`;
  const id = '"id":"chatcmpl-1","model":"m"';
  const stream = head +
    // a key named like ours inside a content string: not a value of ours
    raw(
      `{${id},"choices":[{"index":0,"delta":{"content":"\\"usage\\": {\\"prompt_tokens\\": 99}"},"finish_reason":null}]}`,
    ) +
    // tabs and spaces (the only JSON whitespace an SSE line can hold)
    raw(
      `{${id},"choices":[{"index":0,"delta":{"content":"b"},"finish_reason":\t "length"}]}`,
    ) +
    raw(
      `{${id},"choices":[],"usage" :\t{"prompt_tokens":3,"completion_tokens":2}}`,
    ) +
    // "nullish" is not null (invalid JSON: an error, not a silent skip)
    raw(`{${id},"choices":[],"error":nullish}`);
  const { summary } = observe(encoder.encode(stream), []);
  assert.deepEqual(summary.finishReasons, ["length"]);
  assert.equal(summary.inputTokens, 3);
  assert.equal(summary.outputTokens, 2);
  assert.equal(summary.chunks, 4);
  assert.equal(summary.errors, 1);
});
