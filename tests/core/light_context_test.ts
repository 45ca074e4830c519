// The Context llmtrace builds before @opentelemetry/api is loaded: an
// immutable map with the parent under the key every copy of the API uses.
// Checked against the real API and SDK: a span parented by it joins the
// remote trace, and the propagator injects the remote parent from it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { propagation, trace } from "@opentelemetry/api";
import { forceFlush } from "../../mod.ts";
import {
  LIGHT_ROOT_CONTEXT,
  lightContextWith,
  SPAN_KEY,
} from "../../src/core/light_context.ts";
import { parseTraceparent } from "../../src/core/propagation.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";

const TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

let t: Tracing;
useTracing("light-context-test", (ready) => (t = ready), {
  OTEL_METRICS_EXPORTER: "none",
});

test("immutable: setValue and deleteValue return new contexts", () => {
  const k = Symbol("k");
  const a = LIGHT_ROOT_CONTEXT.setValue(k, 1);
  assert.equal(LIGHT_ROOT_CONTEXT.getValue(k), undefined);
  assert.equal(a.getValue(k), 1);
  const b = a.deleteValue(k);
  assert.equal(a.getValue(k), 1);
  assert.equal(b.getValue(k), undefined);
});

test("the API reads the parent; the SDK parents a span to it; the propagator injects it", async () => {
  const sc = parseTraceparent(TP)!;
  const ctx = lightContextWith(sc);
  assert.equal(trace.getSpanContext(ctx)?.spanId, "b7ad6b7169203331");
  assert.equal(trace.getSpan(ctx)?.isRecording(), false);
  assert.equal(
    (ctx.getValue(SPAN_KEY) as { spanContext(): unknown }).spanContext(),
    sc,
  );

  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  assert.equal(carrier.traceparent, TP);

  t.tracer.startSpan("light_child", {}, ctx).end();
  await forceFlush();
  const [span] =
    (await t.receiver.waitForSpans((s) =>
      s.some((x) => x.name === "light_child")
    )).filter((x) => x.name === "light_child");
  assert.equal(span.traceId, sc.traceId);
  assert.equal(span.parentSpanId, sc.spanId);
});
