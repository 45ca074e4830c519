// recordRequestSpan with bad input: a TypeError or RangeError naming the
// field, and no span exported.
import { test } from "node:test";
import assert from "node:assert/strict";
import { recordRequestSpan, type RequestSpanOptions } from "../../mod.ts";
import type { OtlpReceiver, ReceivedSpan } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { requestIds, spanOfRequest } from "./request_span_support.ts";

let receiver: OtlpReceiver;

useTracing("request-span-input-test", (t) => {
  receiver = t.receiver;
});

/** Flushes and waits (bounded) for the llm_request span of `requestId`. */
const spanOf = (requestId: string): Promise<ReceivedSpan> =>
  spanOfRequest(receiver, requestId);

const rid = requestIds();

test("bad input: TypeError / RangeError with a message naming the field, and no span", async () => {
  const t0 = 1_700_000_600_000;
  const mark = (c: string) => ({ "test.bad_case": c });
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    [
      "missing requestId",
      () =>
        recordRequestSpan({
          timings: { arrival: t0 },
          attributes: mark("a"),
        } as unknown as RequestSpanOptions),
      TypeError,
      /requestId must be a non-empty string, got undefined/,
    ],
    [
      "empty requestId",
      () =>
        recordRequestSpan({
          requestId: "",
          timings: { arrival: t0 },
          attributes: mark("b"),
        }),
      TypeError,
      /requestId/,
    ],
    [
      "string arrival",
      () =>
        recordRequestSpan({
          requestId: "bad-c",
          timings: { arrival: "2024-01-01" as unknown as number },
          attributes: mark("c"),
        }),
      TypeError,
      /options\.timings\.arrival must be epoch milliseconds/,
    ],
    [
      "no timings",
      () =>
        recordRequestSpan({
          requestId: "bad-d",
          attributes: mark("d"),
        } as unknown as RequestSpanOptions),
      TypeError,
      /timings must be an object/,
    ],
    [
      "finished before arrival",
      () =>
        recordRequestSpan({
          requestId: "bad-e",
          timings: { arrival: t0 + 10, finished: t0 },
          attributes: mark("e"),
        }),
      RangeError,
      /options\.timings\.finished .* is before options\.timings\.arrival/,
    ],
    [
      "negative token count",
      () =>
        recordRequestSpan({
          requestId: "bad-f",
          promptTokens: -1,
          timings: { arrival: t0, finished: t0 + 1 },
          attributes: mark("f"),
        }),
      TypeError,
      /options\.promptTokens must be a non-negative integer, got number -1/,
    ],
    [
      "fractional token count",
      () =>
        recordRequestSpan({
          requestId: "bad-g",
          completionTokens: 1.5,
          timings: { arrival: t0, finished: t0 + 1 },
          attributes: mark("g"),
        }),
      TypeError,
      /options\.completionTokens must be a non-negative integer/,
    ],
    [
      "NaN arrival",
      () =>
        recordRequestSpan({
          requestId: "bad-h",
          timings: { arrival: NaN },
          attributes: mark("h"),
        }),
      RangeError,
      /options\.timings\.arrival must be a finite/,
    ],
    [
      "options not an object",
      () => recordRequestSpan(null as unknown as RequestSpanOptions),
      TypeError,
      /options must be an object, got null/,
    ],
  ];
  for (const [label, fn, type, message] of cases) {
    assert.throws(fn, (e: unknown) => {
      assert.ok(
        e instanceof type,
        `${label}: expected ${type.name}, got ${(e as Error)?.name}`,
      );
      assert.match((e as Error).message, message, label);
      return true;
    }, label);
  }
  // A good span after the bad ones: once it is here, the bad ones would be.
  const id = rid("after-bad");
  recordRequestSpan({
    requestId: id,
    timings: { arrival: t0, finished: t0 + 1 },
  });
  await spanOf(id);
  const leaked = receiver.spans().filter((s) =>
    s.attributes["test.bad_case"] !== undefined ||
    String(s.attributes["gen_ai.request.id"] ?? "").startsWith("bad-")
  );
  assert.deepEqual(leaked.map((s) => s.attributes["test.bad_case"]), []);
});
