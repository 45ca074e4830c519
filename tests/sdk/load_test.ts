// A failed load of the OpenTelemetry SDK: isOtelAvailable is false,
// initTracer and getSpanExporter reject with the cause, everything else runs
// as a no-op; a failed load is not cached.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { initTracer, isTracingEnabled } from "../../src/sdk/tracer_provider.ts";
import {
  _setSdkLoader,
  isOtelAvailable,
  otelImportError,
} from "../../src/sdk/load.ts";
import { getSpanExporter } from "../../src/sdk/exporter.ts";
import { instrument } from "../../src/vllm/instrument.ts";
import { manualInstrument } from "../../src/vllm/manual_instrument.ts";
import { propagateTraceToEnv, traceEnv } from "../../src/vllm/env.ts";
import { extractTraceContext } from "../../src/core/headers.ts";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { sleep, withEnv } from "../support/helpers.ts";
import { clean, useConfigEnv } from "../support/config_env.ts";

let rx: OtlpReceiver;
useConfigEnv((r) => (rx = r));

test("failed SDK load: isOtelAvailable false, initTracer rejects with the cause, the rest are no-ops", async () => {
  assert.equal(isTracingEnabled(), false, "precondition");
  const boom = new Error("boom");
  let loads = 0;
  _setSdkLoader(() => {
    loads++;
    return Promise.reject(boom);
  });
  try {
    await withEnv(clean(), async () => {
      assert.equal(await isOtelAvailable(), false);
      assert.equal(otelImportError(), boom);
      // A failed load is not cached: the next call tries again.
      assert.equal(await isOtelAvailable(), false);
      assert.equal(loads, 2);

      await assert.rejects(initTracer("test.noload", rx.url), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.equal((e as Error).cause, boom);
        assert.match((e as Error).message, /OpenTelemetry is not available/);
        assert.match((e as Error).message, /boom/);
        return true;
      });
      await assert.rejects(getSpanExporter(rx.url), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.equal((e as Error).cause, boom);
        return true;
      });
      assert.equal(otelImportError(), boom);
      assert.equal(isTracingEnabled(), false);
      assert.equal(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, undefined);

      // Everything else still works, as no-ops.
      const sync = instrument((a: number) => a * 2, {
        spanName: "noload_sync",
      });
      assert.equal(sync(21), 42);
      const asyncFn = instrument(async () => {
        await sleep(1);
        return "ok";
      }, { spanName: "noload_async" });
      assert.equal(await asyncFn(), "ok");
      const gen = instrument(async function* () {
        yield 1;
        yield 2;
      });
      const got: number[] = [];
      for await (const v of gen()) got.push(v);
      assert.deepEqual(got, [1, 2]);
      assert.throws(
        () =>
          instrument(() => {
            throw new Error("still rethrown");
          })(),
        /still rethrown/,
      );
      const parent = extractTraceContext({
        Traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      });
      assert.equal(trace.getSpanContext(parent!)?.spanId, "00f067aa0ba902b7");
      const sc = manualInstrument({
        spanName: "noload_manual",
        startTime: Date.now() - 10,
        endTime: Date.now(),
        context: parent,
      });
      assert.equal(typeof sc.spanId, "string");
      assert.throws(
        () => manualInstrument({ spanName: "x", startTime: "bad" as never }),
        TypeError,
      );
      assert.deepEqual(traceEnv(parent), {
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      });
      assert.deepEqual(traceEnv(ROOT_CONTEXT), {});
      const seen = propagateTraceToEnv(() => process.env.traceparent, parent);
      assert.equal(
        seen,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      );
      assert.equal(process.env.traceparent, undefined);
    });
  } finally {
    _setSdkLoader(undefined);
  }
  assert.equal(otelImportError(), undefined);
  assert.equal(await isOtelAvailable(), true);
  await sleep(50);
  assert.equal(rx.spans().filter((s) => s.name.startsWith("noload")).length, 0);
});
