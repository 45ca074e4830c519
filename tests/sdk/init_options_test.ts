// OTEL_SDK_DISABLED: with 'true' initTracer sets nothing up (in this process
// and in a child); any other value does not disable.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { trace } from "@opentelemetry/api";
import { initTracer, isTracingEnabled } from "../../src/sdk/tracer_provider.ts";
import { traceEnv } from "../../src/vllm/env.ts";
import { contextFromTraceparent } from "../../src/core/propagation.ts";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { lastJson, runFixture, sleep, withEnv } from "../support/helpers.ts";
import { clean, useConfigEnv } from "../support/config_env.ts";

let rx: OtlpReceiver;
useConfigEnv((r) => (rx = r));

test("OTEL_SDK_DISABLED=true: initTracer sets nothing up (in this process)", async () => {
  for (const value of ["true", "TRUE", " True "]) {
    await withEnv(clean({ OTEL_SDK_DISABLED: value }), async () => {
      const before = trace.getTracerProvider();
      const tracer = await initTracer("test.disabled", rx.url);
      assert.equal(typeof tracer.startSpan, "function");
      assert.equal(isTracingEnabled(), false, value);
      assert.equal(trace.getTracerProvider(), before);
      assert.equal(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, undefined);
      const span = tracer.startSpan("disabled_in_process");
      assert.equal(span.isRecording(), false);
      span.end();
      // No endpoint to hand to children.
      const ctx = contextFromTraceparent(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      );
      assert.equal(traceEnv(ctx).OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, undefined);
    });
  }
});

test("OTEL_SDK_DISABLED in a child: 'true' exports nothing, 'false' does not disable", async () => {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith("OTEL_")) delete base[k];

  const off = await runFixture("sdk_disabled.ts", {
    ...base,
    OTEL_SDK_DISABLED: "true",
    LLMTRACE_TEST_ENDPOINT: rx.url,
    LLMTRACE_TEST_PREFIX: "sdk_off",
  });
  assert.equal(off.code, 0, off.stderr);
  assert.deepEqual(lastJson(off), {
    enabled: false,
    endpointEnv: null,
    endpointAfterShutdown: null,
  });

  const on = await runFixture("sdk_disabled.ts", {
    ...base,
    OTEL_SDK_DISABLED: "false",
    LLMTRACE_TEST_ENDPOINT: rx.url,
    LLMTRACE_TEST_PREFIX: "sdk_on",
  });
  assert.equal(on.code, 0, on.stderr);
  assert.deepEqual(lastJson(on), {
    enabled: true,
    endpointEnv: rx.url,
    endpointAfterShutdown: null,
  });
  const names = [
    "sdk_on_tracer_span",
    "sdk_on_api_span",
    "sdk_on_instrument_span",
  ];
  const spans = await rx.waitForSpans(
    (s) => names.every((n) => s.some((x) => x.name === n)),
    { timeoutMs: 10_000, message: "spans of the enabled child" },
  );
  for (const n of names) {
    const mine = spans.filter((s) => s.name === n);
    assert.equal(mine.length, 1, n);
    assert.equal(mine[0].resource["process.pid"], on.pid);
  }
  // The disabled child, which ran first, sent nothing at all.
  await sleep(100);
  assert.equal(
    rx.spans().filter((s) => s.name.startsWith("sdk_off")).length,
    0,
  );
});
