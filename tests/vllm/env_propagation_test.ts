// Trace context into a child's environment (src/vllm/env.ts): traceEnv of a
// context, and propagateTraceToEnv setting the variables for a call and
// restoring them however it ends. With real child processes:
// tests/integration/trace_env_subprocess_test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { ROOT_CONTEXT, trace, type Tracer } from "@opentelemetry/api";
import { contextFromTraceparent } from "../../src/core/propagation.ts";
import { propagateTraceToEnv, traceEnv } from "../../src/vllm/env.ts";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { withEnv } from "../support/helpers.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const TP = `00-${TRACE_ID}-${SPAN_ID}-01`;

let rx: OtlpReceiver;
let tracer: Tracer;

useTracing("test.propagation", (t) => {
  rx = t.receiver;
  tracer = t.tracer;
});

test("traceEnv: traceparent/tracestate of a context, and the endpoint after init", () => {
  const ctx = contextFromTraceparent(TP, "congo=t61rcWkgMzE")!;
  assert.deepEqual(traceEnv(ctx), {
    traceparent: TP,
    tracestate: "congo=t61rcWkgMzE",
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
  });
  // A context without a span: only the endpoint.
  assert.deepEqual(traceEnv(ROOT_CONTEXT), {
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
  });
  // A live local span.
  const span = tracer.startSpan("traceenv_local_span");
  const sc = span.spanContext();
  const vars = traceEnv(trace.setSpan(ROOT_CONTEXT, span));
  span.end();
  // 03: sampled, and the random-trace-id flag of a trace llmtrace starts.
  assert.equal(vars.traceparent, `00-${sc.traceId}-${sc.spanId}-03`);
  assert.equal(vars.tracestate, undefined);
  // traceEnv never writes the process environment.
  assert.equal(process.env.traceparent, undefined);

  for (const bad of [null, {}, "ctx", 1]) {
    assert.throws(
      () => traceEnv(bad as never),
      (e: unknown) => e instanceof TypeError && /Context/.test(e.message),
    );
  }
});

test("propagateTraceToEnv: sets the variables for fn and restores the previous ones", async () => {
  const ctx = contextFromTraceparent(TP, "a=1")!;
  await withEnv({ traceparent: "previous-tp", tracestate: undefined }, () => {
    const seen = propagateTraceToEnv(() => ({
      tp: process.env.traceparent,
      ts: process.env.tracestate,
    }), ctx);
    assert.deepEqual(seen, { tp: TP, ts: "a=1" });
    assert.equal(process.env.traceparent, "previous-tp");
    assert.equal("tracestate" in process.env, false, "unset again");
  });
  // A context without tracestate removes an inherited tracestate during fn.
  await withEnv({ traceparent: undefined, tracestate: "old=1" }, () => {
    const during = propagateTraceToEnv(
      () => process.env.tracestate,
      contextFromTraceparent(TP)!,
    );
    assert.equal(during, undefined);
    assert.equal(process.env.tracestate, "old=1");
    assert.equal("traceparent" in process.env, false);
  });
});

test("propagateTraceToEnv restores the environment when fn throws", async () => {
  const ctx = contextFromTraceparent(TP)!;
  await withEnv({ traceparent: "previous-tp" }, () => {
    const boom = new Error("sync boom");
    let inside: string | undefined;
    assert.throws(
      () =>
        propagateTraceToEnv(() => {
          inside = process.env.traceparent;
          throw boom;
        }, ctx),
      (e) => e === boom,
    );
    assert.equal(inside, TP);
    assert.equal(process.env.traceparent, "previous-tp");
  });
});

test("propagateTraceToEnv restores the environment when the promise settles", async () => {
  const ctx = contextFromTraceparent(TP)!;
  await withEnv({ traceparent: undefined }, async () => {
    const boom = new Error("async boom");
    let afterAwait: string | undefined;
    const p = propagateTraceToEnv(async () => {
      await new Promise((r) => setTimeout(r, 10));
      afterAwait = process.env.traceparent;
      throw boom;
    }, ctx);
    assert.ok(p instanceof Promise);
    // Still set while the promise is pending.
    assert.equal(process.env.traceparent, TP);
    await assert.rejects(p, (e) => e === boom);
    assert.equal(afterAwait, TP);
    assert.equal("traceparent" in process.env, false);

    const ok = propagateTraceToEnv(async () => {
      await new Promise((r) => setTimeout(r, 10));
      return process.env.traceparent;
    }, ctx);
    assert.equal(await ok, TP);
    assert.equal("traceparent" in process.env, false);
  });
  assert.throws(
    () => propagateTraceToEnv("nope" as never),
    (e: unknown) => e instanceof TypeError && /function/.test(e.message),
  );
});
