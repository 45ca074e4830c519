// Trace context into real child processes through the environment
// (traceEnv, propagateTraceToEnv of src/vllm/env.ts): a worker fixture
// (tests/fixtures/worker.ts) joins the parent's trace and exports to the
// endpoint handed down, as a real OTLP receiver sees it.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { ROOT_CONTEXT, trace, type Tracer } from "@opentelemetry/api";
import { propagateTraceToEnv, traceEnv } from "../../src/vllm/env.ts";
import { forceFlush } from "../../src/sdk/tracer_provider.ts";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { isDeno, lastJson, runFixture, setEnv } from "../support/helpers.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const TP = `00-${TRACE_ID}-${SPAN_ID}-01`;

let rx: OtlpReceiver;
let tracer: Tracer;

useTracing("test.propagation", (t) => {
  rx = t.receiver;
  tracer = t.tracer;
});

const runtimeName = isDeno ? "deno" : "bun";

async function assertWorkerSpan(
  childName: string,
  parentTraceId: string,
  parentSpanId: string,
  childPid: number,
) {
  await forceFlush();
  const spans = await rx.waitForSpans(
    (s) => s.some((x) => x.name === childName),
    { timeoutMs: 10_000, message: `waiting for ${childName}` },
  );
  const mine = spans.filter((s) => s.name === childName);
  assert.equal(mine.length, 1);
  const span = mine[0];
  assert.equal(span.traceId, parentTraceId);
  assert.equal(span.parentSpanId, parentSpanId);
  assert.notEqual(span.spanId, parentSpanId);
  assert.equal(span.kind, 1); // INTERNAL
  assert.equal(span.resource["vllm.process_kind"], "worker");
  assert.equal(span.resource["vllm.process_name"], "Worker_0");
  assert.equal(span.resource["service.name"], "test.worker");
  assert.equal(span.resource["vllm.instrumenting_module_name"], "test.worker");
  assert.equal(span.resource["process.runtime.name"], runtimeName);
  assert.equal(span.resource["process.pid"], childPid);
  assert.equal(span.resource["vllm.process_id"], String(childPid));
  assert.notEqual(childPid, process.pid);
  assert.equal(span.attributes["code.function"], "workerTask");
  assert.equal(span.attributes["code.namespace"], "worker");
  return span;
}

test("subprocess: a child spawned with traceEnv(ctx) joins the parent's trace", async () => {
  const parent = tracer.startSpan("subprocess_parent");
  const psc = parent.spanContext();
  const env = traceEnv(trace.setSpan(ROOT_CONTEXT, parent));
  assert.equal(env.traceparent, `00-${psc.traceId}-${psc.spanId}-03`);
  assert.equal(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, rx.url);
  const result = await runFixture("worker.ts", {
    ...process.env,
    ...env,
    LLMTRACE_TEST_SPAN: "subprocess_child_traceenv",
  });
  parent.end();
  assert.equal(result.code, 0, result.stderr);
  const report = lastJson(result);
  assert.equal(report.tracer, true);
  assert.equal(report.value, 42);
  assert.equal(report.traceparent, env.traceparent);
  assert.equal(report.pid, result.pid);

  await assertWorkerSpan(
    "subprocess_child_traceenv",
    psc.traceId,
    psc.spanId,
    result.pid,
  );
  const parentSpan = rx.spans().find((s) => s.name === "subprocess_parent");
  assert.ok(parentSpan);
  assert.equal(parentSpan.spanId, psc.spanId);
  assert.equal(parentSpan.resource["service.name"], "test.propagation");
});

test("subprocess: a child spawned inside propagateTraceToEnv inherits the trace", async () => {
  const parent = tracer.startSpan("subprocess_parent_inherit");
  const psc = parent.spanContext();
  // No explicit env: the child inherits this process's environment, which
  // holds traceparent (propagateTraceToEnv) and the endpoint (initTracer).
  const extra = setEnv({ LLMTRACE_TEST_SPAN: "subprocess_child_inherit" });
  let result;
  try {
    result = await propagateTraceToEnv(
      () => runFixture("worker.ts", undefined),
      trace.setSpan(ROOT_CONTEXT, parent),
    );
  } finally {
    extra();
  }
  parent.end();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(process.env.traceparent, undefined, "restored after the child");
  assert.equal(
    lastJson(result).traceparent,
    `00-${psc.traceId}-${psc.spanId}-03`,
  );
  await assertWorkerSpan(
    "subprocess_child_inherit",
    psc.traceId,
    psc.spanId,
    result.pid,
  );
});

test("subprocess: without an endpoint in its environment the worker stays untraced", async () => {
  const env: Record<string, string | undefined> = {
    ...process.env,
    traceparent: TP,
    LLMTRACE_TEST_SPAN: "subprocess_child_untraced",
  };
  delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const result = await runFixture("worker.ts", env);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(lastJson(result).tracer, false);
  assert.equal(lastJson(result).value, 42);
  await forceFlush();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(
    rx.spans().filter((s) => s.name === "subprocess_child_untraced").length,
    0,
  );
});
