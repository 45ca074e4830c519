import { test } from "node:test";
import assert from "node:assert/strict";
import {
  OpenAIStreamReader as SseObserver,
  type StreamInfo as SseSummary,
} from "../src/genai/openai_stream.ts";

const encoder = new TextEncoder();

function chatChunk(choices: unknown[], usage: unknown = null): string {
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

function delta(content: Record<string, unknown>, finish: string | null = null) {
  return { index: 0, delta: content, logprobs: null, finish_reason: finish };
}

/** A realistic OpenAI chat stream, with multi-byte characters. */
const CHAT_EVENTS = [
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
const CHAT_STREAM = CHAT_EVENTS.join("");
const CHAT_BYTES = encoder.encode(CHAT_STREAM);

const CHAT_SUMMARY: SseSummary = {
  chunks: 6,
  contentChunks: 3,
  id: "chatcmpl-9xYz",
  model: "gpt-4o-mini-2024-07-18",
  finishReasons: ["stop"],
  inputTokens: 12,
  outputTokens: 4,
  cachedInputTokens: 8,
  done: true,
  outputText: "Héllo 🌍, 世界!",
  errors: 0,
};

/** Byte offset at which the first content event becomes complete. */
function firstContentEnd(
  stream: string,
  eventIndex: number,
  blank: string,
): number {
  const events = stream.split(blank);
  const before = events.slice(0, eventIndex + 1).join(blank);
  // The event completes at the first byte that ends its blank line.
  return encoder.encode(before).length + blank.length / 2;
}

interface Observed {
  summary: SseSummary;
  /** Which pushes returned true. */
  flags: number[];
  endFlag: boolean;
}

function observe(
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

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  const { outputText: _, ...expected } = CHAT_SUMMARY;
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

function checkEverySplit(
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

test("sse: split at every byte boundary gives identical summaries", () => {
  const t = firstContentEnd(CHAT_STREAM, 1, "\n\n");
  assert.equal(CHAT_BYTES[t], 0x0a);
  assert.equal(CHAT_BYTES[t - 1], 0x0a);
  checkEverySplit(CHAT_BYTES, CHAT_SUMMARY, t);
});

test("sse: one byte at a time, the first-content flag fires once at the right byte", () => {
  const cuts = Array.from({ length: CHAT_BYTES.length - 1 }, (_, i) => i + 1);
  const { summary, flags } = observe(CHAT_BYTES, cuts, {
    captureContent: true,
  });
  assert.deepEqual(summary, CHAT_SUMMARY);
  assert.deepEqual(flags, [firstContentEnd(CHAT_STREAM, 1, "\n\n")]);
});

test("sse: random chunkings give identical summaries", () => {
  const random = mulberry32(42);
  for (let round = 0; round < 300; round++) {
    const cuts: number[] = [];
    let at = 0;
    for (;;) {
      at += 1 + Math.floor(random() * 40);
      if (at >= CHAT_BYTES.length) break;
      cuts.push(at);
    }
    const { summary, flags } = observe(CHAT_BYTES, cuts, {
      captureContent: true,
    });
    assert.deepEqual(summary, CHAT_SUMMARY, `round ${round}`);
    assert.equal(flags.length, 1);
  }
});

test("sse: CRLF line endings, split at every byte", () => {
  const stream = CHAT_STREAM.replaceAll("\n", "\r\n");
  const bytes = encoder.encode(stream);
  const t = firstContentEnd(stream, 1, "\r\n\r\n");
  assert.equal(bytes[t], 0x0d); // the blank line is complete at its CR
  assert.equal(bytes[t - 1], 0x0a);
  checkEverySplit(bytes, CHAT_SUMMARY, t);
});

test("sse: bare CR line endings", () => {
  const stream = CHAT_STREAM.replaceAll("\n", "\r");
  const bytes = encoder.encode(stream);
  checkEverySplit(bytes, CHAT_SUMMARY, firstContentEnd(stream, 1, "\r\r"));
});

test("sse: comments, other fields, a leading BOM and multi-line data", () => {
  const stream = "\uFEFF: OPENROUTER PROCESSING\n\n" +
    ": ping\n\n" +
    "retry: 3000\n\n" +
    "event: message\nid: 1\n: inner comment\n" +
    CHAT_EVENTS[0] +
    ": keep-alive\n" +
    // One event spread over two data lines (joined with "\n", valid JSON).
    'data:{"id":"x","choices":[{"index":0,\ndata: "delta":{"content":"Hé"}}]}\n\n' +
    CHAT_EVENTS.slice(2).join("") +
    ":" + "pad".repeat(700) + "\n\n";
  const bytes = encoder.encode(stream);
  const t = firstContentEnd(stream, 4, "\n\n");
  const expected = { ...CHAT_SUMMARY };
  checkEverySplit(bytes, expected, t);
  // A BOM right before a data line: without skipping it, the line's field
  // name would be "\uFEFFdata" and the event would be lost.
  const bom = observe(
    encoder.encode("\uFEFF" + CHAT_EVENTS[1]),
    [1],
    { captureContent: true },
  );
  assert.equal(bom.summary.contentChunks, 1);
  assert.equal(bom.summary.outputText, "Hé");
});

test("sse: a data line with no colon is an empty data field", () => {
  // "data" alone, then a JSON line: the event data is "\n{...}".
  const { summary } = observe(
    encoder.encode('data\ndata: {"choices":[{"text":"a"}]}\n\n'),
    [],
  );
  assert.equal(summary.chunks, 1);
  assert.equal(summary.contentChunks, 1);
  assert.equal(summary.errors, 0);
  // "database: x" is not a data field.
  const other = observe(encoder.encode("database: {}\n\ndataz: {}\n\n"), []);
  assert.equal(other.summary.chunks, 0);
  assert.equal(other.summary.errors, 0);
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

test("sse: an oversized event is skipped with bounded memory", () => {
  const max = 1024;
  const observer = new SseObserver({
    maxEventBytes: max,
    captureContent: true,
  });
  const big = "data: " + JSON.stringify({
    choices: [{ delta: { content: "x".repeat(50_000) } }],
  }) + "\n\n";
  const stream = CHAT_EVENTS[0] + big + CHAT_EVENTS.slice(1).join("");
  const bytes = encoder.encode(stream);
  let maxBuffered = 0;
  for (let i = 0; i < bytes.length; i += 100) {
    observer.push(bytes.subarray(i, i + 100));
    maxBuffered = Math.max(maxBuffered, observer.bufferedBytes);
  }
  observer.end();
  assert.ok(maxBuffered <= max + 3, `buffered ${maxBuffered}`);
  assert.ok(maxBuffered > 0);
  assert.deepEqual(observer.info, { ...CHAT_SUMMARY, errors: 1 });
  assert.equal(observer.bufferedBytes, 0);
});

test("sse: oversized events inside one chunk and across many data lines", () => {
  const max = 600; // every CHAT_EVENTS event fits
  for (const event of CHAT_EVENTS) assert.ok(event.length < max);
  const many = Array.from({ length: 20 }, () => "data: " + "y".repeat(40))
    .join("\n") + "\n\n";
  const inOne = "data: " + "z".repeat(1000) + "\n\n";
  const stream = many + inOne + CHAT_EVENTS.join("");
  const bytes = encoder.encode(stream);
  const whole = observe(bytes, [], {
    maxEventBytes: max,
    captureContent: true,
  });
  assert.deepEqual(whole.summary, { ...CHAT_SUMMARY, errors: 2 });
  for (let k = 0; k <= bytes.length; k += 7) {
    const split = observe(bytes, [k], {
      maxEventBytes: max,
      captureContent: true,
    });
    assert.deepEqual(split.summary, whole.summary, `split at ${k}`);
  }
  // A large event within the limit is fine.
  const fits = observe(bytes, [100, 500, 900], { maxEventBytes: 2000 });
  assert.equal(fits.summary.errors, 2); // "yyy" and "zzz" are not JSON
  assert.equal(fits.summary.chunks, 6);
});

test("sse: an oversized comment is dropped without an error", () => {
  const observer = new SseObserver({ maxEventBytes: 400 });
  assert.ok(CHAT_EVENTS[1].length < 400);
  observer.push(encoder.encode(": " + "p".repeat(500)));
  assert.equal(observer.bufferedBytes, 0);
  observer.push(encoder.encode("q".repeat(500) + "\n\n"));
  observer.push(encoder.encode(CHAT_EVENTS[1]));
  observer.end();
  assert.equal(observer.info.errors, 0);
  assert.equal(observer.info.contentChunks, 1);
});

test("sse: end() flushes a final event without a blank line", () => {
  const stream = CHAT_EVENTS[0] + CHAT_EVENTS[1].trimEnd();
  const { summary, flags, endFlag } = observe(encoder.encode(stream), [], {
    captureContent: true,
  });
  assert.deepEqual(flags, []);
  assert.equal(endFlag, true);
  assert.equal(summary.contentChunks, 1);
  assert.equal(summary.outputText, "Hé");

  const observer = new SseObserver();
  observer.push(encoder.encode("data: [DONE]"));
  assert.equal(observer.info.done, false);
  observer.end();
  assert.equal(observer.info.done, true);
  // Pushes after end() are ignored; end() is idempotent.
  assert.equal(observer.push(encoder.encode(CHAT_EVENTS[1])), false);
  assert.equal(observer.end(), false);
  assert.equal(observer.info.chunks, 0);
});

test("sse: multi-byte UTF-8 split inside a character, and invalid UTF-8", () => {
  const bytes = encoder.encode(CHAT_EVENTS[2]); // contains a 4-byte emoji
  const emoji = encoder.encode("🌍");
  let at = -1;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === emoji[0] && bytes[i + 1] === emoji[1]) at = i;
  }
  assert.ok(at > 0);
  for (const k of [at + 1, at + 2, at + 3]) {
    const { summary } = observe(bytes, [k], { captureContent: true });
    assert.equal(summary.outputText, "llo 🌍", `split at ${k}`);
  }
  // Invalid UTF-8 inside a JSON string: replaced, the event still parses.
  const head = encoder.encode('data: {"choices":[{"delta":{"content":"a');
  const tail = encoder.encode('b"}}]}\n\n');
  const invalid = new Uint8Array([...head, 0xff, 0xc3, ...tail]);
  const { summary } = observe(invalid, [head.length + 1], {
    captureContent: true,
  });
  assert.equal(summary.chunks, 1);
  assert.equal(summary.outputText, "a\uFFFD\uFFFDb");
});

test("sse: never throws on garbage input", () => {
  const random = mulberry32(7);
  for (let round = 0; round < 50; round++) {
    const observer = new SseObserver({
      maxEventBytes: 1 + Math.floor(random() * 200),
      captureContent: true,
    });
    for (let i = 0; i < 20; i++) {
      const chunk = new Uint8Array(Math.floor(random() * 300));
      for (let j = 0; j < chunk.length; j++) {
        // Bias towards structural bytes.
        const r = random();
        chunk[j] = r < 0.1
          ? 0x0a
          : r < 0.15
          ? 0x0d
          : r < 0.2
          ? 0x3a
          : Math.floor(random() * 256);
      }
      observer.push(chunk);
      assert.ok(observer.bufferedBytes <= 200 + 3);
    }
    observer.end();
    const summary = observer.info;
    assert.equal(summary.chunks, 0);
    assert.equal(typeof summary.errors, "number");
  }
  const observer = new SseObserver();
  const push = observer.push.bind(observer) as (chunk: unknown) => boolean;
  assert.equal(push(undefined), false);
  assert.equal(push("data: {}\n\n"), false);
  assert.equal(push(null), false);
  assert.equal(observer.push(new Uint8Array(0)), false);
  assert.equal(observer.info.chunks, 0);
  // Deeply nested JSON makes JSON.parse throw a RangeError on some engines.
  const deep = "data: " + "[".repeat(200_000) + "]".repeat(200_000) + "\n\n";
  const deepObserver = new SseObserver({ maxEventBytes: 1 << 20 });
  deepObserver.push(encoder.encode(deep));
  assert.equal(deepObserver.info.errors, 1);
});

test("sse: invalid maxEventBytes falls back to the default", () => {
  for (const maxEventBytes of [NaN, -1, undefined]) {
    const observer = new SseObserver({ maxEventBytes });
    const big = "data: " + JSON.stringify({
      choices: [{ delta: { content: "x".repeat(100_000) } }],
    }) + "\n\n";
    observer.push(encoder.encode(big));
    assert.equal(observer.info.contentChunks, 1, String(maxEventBytes));
  }
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
