// API misuse: arguments and options of the wrong type, across the public API
// (initTracer, traceHandler, tracedFetch, manualInstrument,
// recordRequestSpan, instrument, traceEnv), throw TypeError/RangeError naming
// the argument, and set nothing up. See tests/support/reliability.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  initTracer,
  isTracingEnabled,
  shutdownTracing,
} from "../../src/sdk/tracer_provider.ts";
import { traceHandler } from "../../src/http/server.ts";
import { tracedFetch } from "../../src/http/client.ts";
import { instrument } from "../../src/vllm/instrument.ts";
import { manualInstrument } from "../../src/vllm/manual_instrument.ts";
import { recordRequestSpan } from "../../src/vllm/request_span.ts";
import { traceEnv } from "../../src/vllm/env.ts";
import { sleep } from "../support/helpers.ts";
import { useReliabilityHooks } from "../support/reliability.ts";

const unhandled = useReliabilityHooks();

/** Asserts `fn` throws (or rejects with) a TypeError/RangeError whose message matches. */
async function throwsNaming(
  fn: () => unknown,
  name: RegExp,
  kinds: (typeof TypeError | typeof RangeError)[] = [TypeError, RangeError],
): Promise<void> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  assert.ok(error !== undefined, `did not throw (expected ${name})`);
  assert.ok(
    kinds.some((k) => error instanceof k),
    `threw ${(error as Error)?.name}: ${(error as Error)?.message}`,
  );
  assert.match((error as Error).message, name);
}

test("API misuse: wrong argument types throw TypeError/RangeError naming the argument", async () => {
  const ok = () => new Response("ok");
  // initTracer (each throws before building a provider)
  await throwsNaming(() => initTracer(42 as never), /instrumentingModuleName/);
  await throwsNaming(() => initTracer(""), /instrumentingModuleName/);
  await throwsNaming(() => initTracer("x", 42 as never), /otlpTracesEndpoint/);
  await throwsNaming(() => initTracer("x", "  "), /otlpTracesEndpoint/);
  await throwsNaming(
    () => initTracer("x", undefined, [] as never),
    /extraAttributes/,
  );
  await throwsNaming(
    () => initTracer("x", undefined, "a=b" as never),
    /extraAttributes/,
  );
  assert.equal(isTracingEnabled(), false);
  // traceHandler
  await throwsNaming(() => traceHandler("handler" as never), /handler/);
  await throwsNaming(() => traceHandler(ok, null as never), /options/);
  await throwsNaming(
    () => traceHandler(ok, { maxBodyBytes: -1 }),
    /maxBodyBytes/,
    [RangeError],
  );
  await throwsNaming(
    () => traceHandler(ok, { maxBodyBytes: NaN }),
    /maxBodyBytes/,
    [RangeError],
  );
  await throwsNaming(() => traceHandler(ok, { route: 42 as never }), /route/);
  await throwsNaming(
    () => traceHandler(ok, { trustIncomingContext: "yes" as never }),
    /trustIncomingContext/,
  );
  await throwsNaming(
    () => traceHandler(ok, { operation: "chat" as never }),
    /operation/,
  );
  // tracedFetch
  await throwsNaming(
    () => tracedFetch("http://127.0.0.1:9/", undefined, 42 as never),
    /options/,
  );
  // manualInstrument
  await throwsNaming(() => manualInstrument(null as never), /options/);
  await throwsNaming(
    () => manualInstrument({ spanName: 1 as never, startTime: 0 }),
    /spanName/,
  );
  await throwsNaming(
    () => manualInstrument({ spanName: "s", startTime: "yesterday" as never }),
    /startTime/,
  );
  await throwsNaming(
    () => manualInstrument({ spanName: "s", startTime: NaN }),
    /startTime/,
  );
  await throwsNaming(
    () => manualInstrument({ spanName: "s", startTime: 2000, endTime: 1000 }),
    /endTime/,
    [RangeError],
  );
  // recordRequestSpan
  await throwsNaming(() => recordRequestSpan(undefined as never), /options/);
  await throwsNaming(
    () => recordRequestSpan({ requestId: 7 as never, timings: { arrival: 0 } }),
    /requestId/,
  );
  await throwsNaming(
    () => recordRequestSpan({ requestId: "r", timings: null as never }),
    /timings/,
  );
  await throwsNaming(
    () => recordRequestSpan({ requestId: "r", timings: {} as never }),
    /arrival/,
  );
  await throwsNaming(
    () =>
      recordRequestSpan({
        requestId: "r",
        timings: { arrival: { t: 1 } as never },
      }),
    /arrival/,
  );
  await throwsNaming(
    () =>
      recordRequestSpan({
        requestId: "r",
        timings: { arrival: 0 },
        promptTokens: -1,
      }),
    /promptTokens/,
  );
  await throwsNaming(
    () =>
      recordRequestSpan({
        requestId: "r",
        timings: { arrival: 0 },
        completionTokens: "3" as never,
      }),
    /completionTokens/,
  );
  // instrument
  await throwsNaming(() => instrument(42 as never), /fn/);
  await throwsNaming(() => instrument(ok, null as never), /options/);
  await throwsNaming(
    () => instrument(ok, { spanName: 5 as never }),
    /spanName/,
  );
  // traceEnv
  await throwsNaming(() => traceEnv(42 as never), /ctx/);
  await throwsNaming(() => traceEnv(null as never), /ctx/);
  assert.equal(isTracingEnabled(), false);
});

test(
  "API misuse: options of the wrong type are rejected up front",
  async () => {
    const ok = () => new Response("ok");
    try {
      await throwsNaming(
        () => initTracer("x", "http://127.0.0.1:9/v1/traces", {}, 42 as never),
        /options/,
      );
      await shutdownTracing().catch(() => {});
      await throwsNaming(
        () =>
          initTracer("x", "http://127.0.0.1:9/v1/traces", {}, {
            spanProcessors: "ab" as never,
          }),
        /options\.spanProcessors/,
      );
    } finally {
      await shutdownTracing().catch(() => {});
    }
    await throwsNaming(
      () => traceHandler(ok, { captureHeaders: "x-a" as never }),
      /options\.captureHeaders must be/,
    );
    await throwsNaming(
      () => traceHandler(ok, { attributes: "x" as never }),
      /options\.attributes/,
    );
    await throwsNaming(
      () =>
        tracedFetch("http://127.0.0.1:9/", undefined, { fetch: "f" as never }),
      /options\.fetch must be/,
    );
  },
);

test("no unhandled promise rejection happened in this file", async () => {
  await sleep(50);
  assert.deepEqual(unhandled.map(String), []);
});
