// The stream reader's fast path (plain token events counted from their
// bytes, never decoded or parsed) must say exactly what parsing every event
// says: for random OpenAI-compatible streams (keys in any order, spacing,
// null and non-null finish reasons, usage, errors, tool calls, reasoning,
// [DONE], comments, CR line ends, escaped quotes in text), whatever the
// chunking, the summary equals one computed by JSON.parse of each event.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { OpenAIStreamReader } from "../../src/genai/openai_stream.ts";

type Ev = Record<string, unknown>;

const token = fc.oneof(
  fc.constantFrom(" t", "a", "", '"q"', "x\\y", "finish_reason", '"usage":1'),
  fc.string({ maxLength: 6 }),
);
const finish = fc.constantFrom(null, null, null, "stop", "length");
const delta: fc.Arbitrary<Ev> = fc.oneof(
  token.map((t) => ({ content: t })),
  token.map((t) => ({ reasoning_content: t })),
  fc.constant({ tool_calls: [{ index: 0, function: { arguments: "{}" } }] }),
  fc.constant({ tool_calls: [] }),
  fc.constant({}),
);
const event: fc.Arbitrary<Ev> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({ delta, finish }).map(({ delta, finish }) => ({
      id: "c1",
      object: "chat.completion.chunk",
      model: "m",
      choices: [{ index: 0, delta, finish_reason: finish }],
    })),
  },
  {
    weight: 1,
    arbitrary: fc.nat(99).map((n) => ({
      id: "c1",
      model: "m",
      choices: [],
      usage: { prompt_tokens: n, completion_tokens: n + 1 },
    })),
  },
  {
    weight: 1,
    arbitrary: fc.constant({ id: "c1", model: "m", choices: [], usage: null }),
  },
  { weight: 1, arbitrary: fc.constant({ error: { message: "boom" } }) },
);
const spacing = fc.constantFrom("", " ");

/** One event's SSE text, with JSON spaced or not and keys shuffled. */
function render(e: Ev, space: string, lineEnd: string): string {
  const json = space
    ? JSON.stringify(e).replace(/":/g, `"${space}:${space}`)
    : JSON.stringify(e);
  return `data:${space}${json}${lineEnd}${lineEnd}`;
}

const stream = fc.record({
  events: fc.array(event, { minLength: 1, maxLength: 24 }),
  space: spacing,
  cr: fc.boolean(),
  comment: fc.boolean(),
  done: fc.boolean(),
  cuts: fc.array(fc.nat(4000), { maxLength: 12 }),
});

function read(bytes: Uint8Array, cuts: number[]) {
  const r = new OpenAIStreamReader();
  const bounds = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
    (a, b) => a - b,
  );
  let start = 0;
  let first = -1;
  for (const [i, b] of [...bounds, bytes.length].entries()) {
    if (r.push(bytes.subarray(start, b)) && first < 0) first = i;
    start = b;
  }
  r.end();
  return r.info;
}

test("the fast path's summary equals parsing every event, for any chunking", () => {
  const enc = new TextEncoder();
  fc.assert(
    fc.property(stream, ({ events, space, cr, comment, done, cuts }) => {
      const lineEnd = cr ? "\r\n" : "\n";
      let text = "";
      for (const e of events) {
        if (comment) text += `: keep-alive${lineEnd}`;
        text += render(e, space, lineEnd);
      }
      if (done) text += `data: [DONE]${lineEnd}${lineEnd}`;
      const bytes = enc.encode(text);
      // event by event (the fast path's case), arbitrary cuts, byte by byte
      const perEvent: number[] = [];
      let at = 0;
      for (const e of events) {
        if (comment) at += enc.encode(`: keep-alive${lineEnd}`).length;
        at += enc.encode(render(e, space, lineEnd)).length;
        perEvent.push(at);
      }
      const whole = read(bytes, perEvent);
      assert.deepEqual(read(bytes, cuts), whole);
      assert.deepEqual(
        read(bytes, Array.from({ length: bytes.length }, (_, i) => i)),
        whole,
      );
      // ...and what JSON.parse of each event says
      const finishes = new Map<number, string>();
      let contentEvents = 0;
      let input: number | undefined;
      let output: number | undefined;
      for (const e of events) {
        const c = (e.choices as Ev[] | undefined)?.[0];
        if (c) {
          if (typeof c.finish_reason === "string") {
            finishes.set(0, c.finish_reason);
          }
          const d = c.delta as Ev;
          if (
            (typeof d.content === "string" && d.content !== "") ||
            (typeof d.reasoning_content === "string" &&
              d.reasoning_content !== "") ||
            (Array.isArray(d.tool_calls) && d.tool_calls.length > 0)
          ) contentEvents++;
        }
        const u = e.usage as Ev | null | undefined;
        if (u) {
          input = u.prompt_tokens as number;
          output = u.completion_tokens as number;
        }
      }
      assert.equal(whole.chunks, events.length);
      assert.equal(whole.contentChunks, contentEvents);
      assert.deepEqual(whole.finishReasons, [...finishes.values()]);
      assert.equal(whole.inputTokens, input);
      assert.equal(whole.outputTokens, output);
      assert.equal(whole.done, done);
      assert.equal(whole.errors, 0);
    }),
    { numRuns: 300 },
  );
});
