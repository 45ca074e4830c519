// The server-sent-events framing under the stream reader (src/genai/sse.ts,
// sse_event.ts, through openai_stream.ts): any chunking, LF / CRLF / CR line
// ends, comments and other fields, the BOM, multi-line data, bounded
// buffering of oversized events, end(), UTF-8 split across chunks, garbage.
// What the events mean is in openai_stream_test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OpenAIStreamReader as SseObserver } from "../../src/genai/openai_stream.ts";
import {
  CHAT_BYTES,
  CHAT_EVENTS,
  CHAT_STREAM,
  CHAT_SUMMARY,
  checkEverySplit,
  encoder,
  firstContentEnd,
  observe,
} from "./chat_stream_fixtures.ts";

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

test("sse: garbage input is counted, never thrown, and the next valid event still reads", () => {
  const random = mulberry32(7);
  const valid = encoder.encode(
    'data: {"choices":[{"index":0,"delta":{"content":"ok"}}]}\n\n',
  );
  for (let round = 0; round < 50; round++) {
    const maxEventBytes = 1 + Math.floor(random() * 200);
    const observer = new SseObserver({ maxEventBytes, captureContent: true });
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
    // Blank lines end whatever event the garbage left open.
    observer.push(encoder.encode("\n\n\n"));
    const garbage = observer.info;
    assert.equal(garbage.chunks, 0);
    assert.equal(garbage.contentChunks, 0);
    observer.push(valid);
    observer.end();
    const after = observer.info;
    const label = `round ${round}, maxEventBytes ${maxEventBytes}`;
    if (maxEventBytes >= valid.length) {
      // It fits: read as if no garbage had come before it.
      assert.equal(after.chunks, 1, label);
      assert.equal(after.contentChunks, 1, label);
      assert.equal(after.outputText, "ok", label);
      assert.equal(after.errors, garbage.errors, label);
    } else if (maxEventBytes < valid.length - 10) {
      // Too big for the bound: skipped, and counted as an error.
      assert.equal(after.chunks, 0, label);
      assert.equal(after.errors, garbage.errors + 1, label);
    }
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
