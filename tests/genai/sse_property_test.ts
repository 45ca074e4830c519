// Property (fast-check, bounded runs): any chunking of an SSE stream (LF,
// CRLF or CR line ends, a BOM, comments, multi-line data, bad JSON) gives
// the stream reader (src/genai/sse.ts under openai_stream.ts) the same
// summary as the whole stream in one chunk.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { OpenAIStreamReader as SseObserver } from "../../src/genai/openai_stream.ts";
import { RUNS, usePropertyTracing } from "../support/property_arbitraries.ts";

usePropertyTracing();

const enc = new TextEncoder();

const sseEvent = fc.oneof(
  fc.record({
    id: fc.constantFrom("c1", "c2"),
    model: fc.constantFrom("m", "", "模型"),
    choices: fc.array(
      fc.record({
        index: fc.integer({ min: 0, max: 2 }),
        delta: fc.record({ content: fc.string({ unit: "grapheme" }) }, {
          requiredKeys: [],
        }),
        finish_reason: fc.constantFrom(null, "stop", "length"),
      }),
      { maxLength: 2 },
    ),
  }).map((o) => `data: ${JSON.stringify(o)}`),
  fc.record({
    choices: fc.constant([]),
    usage: fc.record({
      prompt_tokens: fc.nat(1000),
      completion_tokens: fc.nat(1000),
    }),
  }).map((o) => `data: ${JSON.stringify(o)}`),
  fc.constant("data: [DONE]"),
  fc.constant(": keep-alive comment"),
  fc.constant('event: ping\ndata: {"choices":[]}'),
  fc.constant("data: {not json"),
  fc.constant('data: {"choices":\ndata: []}'),
);

test("any chunking of an SSE stream gives the same summary", () => {
  fc.assert(
    fc.property(
      fc.array(sseEvent, { maxLength: 12 }),
      fc.constantFrom("\n", "\r\n", "\r"),
      fc.boolean(),
      fc.array(fc.nat(), { maxLength: 20 }),
      (events, eol, bom, cuts) => {
        const text = (bom ? "\ufeff" : "") +
          events.map((e) => e.replaceAll("\n", eol) + eol + eol).join("");
        const bytes = enc.encode(text);
        const whole = new SseObserver({ captureContent: true });
        whole.push(bytes);
        whole.end();
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))]
          .sort((a, b) => a - b);
        const split = new SseObserver({ captureContent: true });
        let from = 0;
        for (const p of [...points, bytes.length]) {
          split.push(bytes.subarray(from, p));
          from = p;
        }
        split.end();
        assert.deepEqual(split.info, whole.info);
      },
    ),
    { numRuns: RUNS },
  );
});
