// The tracer provider: resource attributes, registration with the global
// OpenTelemetry API, one provider per process, exporter headers from the
// environment, flush on normal exit; on a real OTLP receiver, with child
// processes where the environment or a fresh process matters.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  context,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import {
  forceFlush,
  initTracer,
  initWorkerTracer,
  isTracingEnabled,
  shutdownTracing,
} from "../../src/sdk/tracer_provider.ts";
import { _tracingActive } from "../../src/core/tracer.ts";
import { traceEnv } from "../../src/vllm/env.ts";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from "../support/otlp_receiver.ts";
import {
  captureWarnings,
  childEnv,
  CLEAN_ENV,
  isDeno,
  lastJson,
  runFixture,
  setEnv,
  sleep,
} from "../support/helpers.ts";

let rx: OtlpReceiver;
let tracer: Tracer;
let restoreEnv: () => void;

const EXTRA = {
  "test.extra": "x",
  "test.extra_int": 7,
  "test.extra_double": 1.5,
  "test.extra_bool": true,
  "test.extra_list": ["a", "b"],
};

before(async () => {
  rx = await startOtlpReceiver();
  restoreEnv = setEnv({
    ...CLEAN_ENV,
    OTEL_EXPORTER_OTLP_HEADERS: "x-llmtrace-generic=g,x-llmtrace-both=generic",
    OTEL_EXPORTER_OTLP_TRACES_HEADERS:
      "x-llmtrace-test=hello%20world,x-llmtrace-both=traces",
  });
  assert.equal(isTracingEnabled(), false, "no provider left by another file");
  tracer = await initTracer("test.provider", rx.url, EXTRA);
});

after(async () => {
  try {
    await shutdownTracing();
  } finally {
    restoreEnv();
    await rx.close();
  }
});

async function oneSpan(
  name: string,
  receiver: OtlpReceiver = rx,
): Promise<ReceivedSpan> {
  await forceFlush();
  const all = await receiver.waitForSpans(
    (s) => s.some((x) => x.name === name),
    { timeoutMs: 10_000, message: `waiting for ${name}` },
  );
  const mine = all.filter((x) => x.name === name);
  assert.equal(mine.length, 1, `exactly one span named ${name}`);
  return mine[0];
}

const runtimeName = isDeno ? "deno" : "bun";
const runtimeVersion = isDeno
  ? (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno
    .version.deno
  : (globalThis as unknown as { Bun: { version: string } }).Bun.version;

test("resource: service.name, module name, pid, runtime, extra attributes", async () => {
  tracer.startSpan("provider_resource").end();
  const span = await oneSpan("provider_resource");
  const r = span.resource;
  assert.equal(r["service.name"], "test.provider");
  assert.equal(r["vllm.instrumenting_module_name"], "test.provider");
  assert.equal(r["process.pid"], process.pid);
  assert.equal(typeof r["process.pid"], "number");
  assert.ok(Number.isInteger(r["process.pid"]));
  assert.equal(r["vllm.process_id"], String(process.pid));
  assert.equal(typeof r["vllm.process_id"], "string");
  assert.equal(r["process.runtime.name"], runtimeName);
  assert.equal(r["process.runtime.version"], runtimeVersion);
  assert.equal(r["telemetry.sdk.name"], "opentelemetry");
  assert.equal(r["test.extra"], "x");
  assert.equal(r["test.extra_int"], 7);
  assert.equal(r["test.extra_double"], 1.5);
  assert.equal(r["test.extra_bool"], true);
  assert.deepEqual(r["test.extra_list"], ["a", "b"]);
  assert.equal(r["vllm.process_kind"], undefined, "only for workers");
  assert.equal(span.scope.name, "test.provider");
  assert.equal(span.kind, 1);
});

test("forceFlush exports without waiting for the batch delay", async () => {
  tracer.startSpan("provider_force_flush").end();
  const started = Date.now();
  await forceFlush();
  // The export request was answered, so the receiver already holds the span.
  assert.equal(
    rx.spans().filter((s) => s.name === "provider_force_flush").length,
    1,
  );
  assert.ok(Date.now() - started < 4000, "well before the 5 s batch delay");
});

test("exporter headers come from OTEL_EXPORTER_OTLP_[TRACES_]HEADERS", async () => {
  // Only this process's requests (children in other tests export too).
  const first = rx.requests().length;
  tracer.startSpan("provider_headers").end();
  await oneSpan("provider_headers");
  const reqs = rx.requests().slice(first).filter((r) => r.spanCount > 0);
  assert.ok(reqs.length > 0);
  for (const r of reqs) {
    assert.equal(r.headers.get("x-llmtrace-test"), "hello world");
    assert.equal(r.headers.get("x-llmtrace-generic"), "g");
    assert.equal(r.headers.get("x-llmtrace-both"), "traces");
    assert.equal(r.contentType, "application/x-protobuf");
    assert.equal(r.path, "/v1/traces");
  }
});

test("the global @opentelemetry/api sees the provider initTracer registered", async () => {
  assert.equal(isTracingEnabled(), true);
  assert.equal(_tracingActive(), true);
  const userSpan = trace.getTracer("user", "9.9.9").startSpan("user_api_span");
  const usc = userSpan.spanContext();
  assert.equal(userSpan.isRecording(), true);

  // The context manager (StackContextManager) is registered: with() nests.
  const child = context.with(trace.setSpan(context.active(), userSpan), () => {
    assert.equal(trace.getActiveSpan(), userSpan);
    return trace.getTracer("user").startSpan("user_api_child");
  });
  child.end();
  assert.equal(trace.getActiveSpan(), undefined);

  // The W3C propagator is registered.
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, userSpan), carrier);
  // 03: sampled, and the random-trace-id flag of a trace the provider starts.
  assert.equal(carrier.traceparent, `00-${usc.traceId}-${usc.spanId}-03`);
  const extracted = trace.getSpanContext(
    propagation.extract(ROOT_CONTEXT, carrier),
  );
  assert.equal(extracted?.spanId, usc.spanId);
  userSpan.end();

  const span = await oneSpan("user_api_span");
  assert.equal(span.spanId, usc.spanId);
  assert.deepEqual(span.scope, { name: "user", version: "9.9.9" });
  assert.equal(span.resource["service.name"], "test.provider");
  const c = await oneSpan("user_api_child");
  assert.equal(c.parentSpanId, usc.spanId);
  assert.equal(c.traceId, usc.traceId);
});

test("a second initTracer returns a tracer of the same provider and warns once", async () => {
  const rx2 = await startOtlpReceiver();
  try {
    const { result: tracers, warnings } = await captureWarnings(async () => [
      await initTracer("test.provider.second", rx2.url),
      await initTracer("test.provider.third"),
    ]);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0], /test\.provider\.second/);
    assert.ok(warnings[0].includes(rx.url), warnings[0]);
    // The endpoint given to the second call is not used, and the environment
    // still names the first one.
    assert.equal(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, rx.url);

    tracers[0].startSpan("provider_second_init").end();
    tracers[1].startSpan("provider_third_init").end();
    const second = await oneSpan("provider_second_init");
    const third = await oneSpan("provider_third_init");
    assert.equal(second.scope.name, "test.provider.second");
    assert.equal(third.scope.name, "test.provider.third");
    // Same provider: same resource (the first call's module name).
    assert.equal(second.resource["service.name"], "test.provider");
    assert.equal(third.resource["service.name"], "test.provider");
    // No second exporter: the span arrived once, and never at rx2.
    await forceFlush();
    await sleep(200);
    assert.equal(
      rx.spans().filter((s) => s.name === "provider_second_init").length,
      1,
    );
    assert.equal(rx2.spans().length, 0);
    assert.equal(rx2.requests().length, 0);
  } finally {
    await rx2.close();
  }
});

test("traceEnv after init carries the endpoint; initTracer wrote it to the environment", () => {
  assert.equal(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, rx.url);
  const span = tracer.startSpan("provider_traceenv");
  const sc = span.spanContext();
  assert.deepEqual(traceEnv(trace.setSpan(ROOT_CONTEXT, span)), {
    traceparent: `00-${sc.traceId}-${sc.spanId}-03`,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
  });
  span.end();
});

test("initTracer validates its arguments even when a provider exists", async () => {
  await assert.rejects(initTracer(""), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.match((e as Error).message, /instrumentingModuleName/);
    assert.match((e as Error).message, /""/);
    return true;
  });
  await assert.rejects(initTracer(42 as never), TypeError);
  await assert.rejects(
    initTracer("x", undefined, ["a"] as never),
    (e: unknown) =>
      e instanceof TypeError && /extraAttributes/.test((e as Error).message),
  );
  await assert.rejects(
    initTracer("x", "ftp://127.0.0.1/v1/traces"),
    (e: unknown) =>
      e instanceof Error && (e as Error).message.includes("ftp://127.0.0.1"),
  );
  assert.equal(isTracingEnabled(), true, "the running provider is untouched");
});

// ---------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------

test("resource in a child: service.name from OTEL_SERVICE_NAME, else the module name", async () => {
  const cases: {
    span: string;
    env: Record<string, string>;
    service: string;
    extra?: Record<string, string>;
  }[] = [
    { span: "service_default", env: {}, service: "test.module.name" },
    {
      span: "service_env",
      env: { OTEL_SERVICE_NAME: "svc-from-env" },
      service: "svc-from-env",
    },
    {
      span: "service_resource_attrs",
      env: {
        OTEL_RESOURCE_ATTRIBUTES:
          "service.name=svc-from-attrs,deployment.environment=test",
      },
      service: "svc-from-attrs",
      extra: { "deployment.environment": "test" },
    },
    {
      span: "service_both",
      env: {
        OTEL_SERVICE_NAME: "svc-wins",
        OTEL_RESOURCE_ATTRIBUTES: "service.name=svc-loses,team=llm",
      },
      service: "svc-wins",
      extra: { team: "llm" },
    },
  ];
  for (const c of cases) {
    const result = await runFixture(
      "service_name.ts",
      childEnv({
        ...c.env,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
        LLMTRACE_TEST_SPAN: c.span,
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    const span = await oneSpan(c.span);
    assert.equal(span.resource["service.name"], c.service, c.span);
    assert.equal(
      span.resource["vllm.instrumenting_module_name"],
      "test.module.name",
    );
    assert.equal(span.resource["process.pid"], result.pid);
    assert.equal(span.resource["vllm.process_id"], String(result.pid));
    assert.equal(span.resource["process.runtime.name"], runtimeName);
    for (const [k, v] of Object.entries(c.extra ?? {})) {
      assert.equal(span.resource[k], v, `${c.span}: ${k}`);
    }
  }
});

test("flush on normal exit: a child that never calls shutdown still exports all 20 spans", async () => {
  const N = 20;
  const result = await runFixture(
    "flush_on_exit.ts",
    childEnv({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
      // The batch timer alone would not export before exit.
      OTEL_BSP_SCHEDULE_DELAY: "60000",
      LLMTRACE_TEST_N: String(N),
      LLMTRACE_TEST_PREFIX: "exit_flush",
    }),
    20_000,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(lastJson(result), { emitted: N });
  // The spans were exported before the child exited.
  const mine = rx.spans().filter((s) => s.name.startsWith("exit_flush_"));
  assert.equal(mine.length, N, `got ${mine.length} of ${N} before exit`);
  assert.deepEqual(
    mine.map((s) => s.name).sort(),
    Array.from({ length: N }, (_, i) => `exit_flush_${i}`).sort(),
  );
  assert.ok(mine.every((s) => s.resource["process.pid"] === result.pid));
  assert.ok(result.ms < 15_000, `exited after ${result.ms} ms`);
});

test("flush on exit is the hook's doing: with flushOnExit: false the spans are lost", async () => {
  const result = await runFixture(
    "flush_on_exit.ts",
    childEnv({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
      OTEL_BSP_SCHEDULE_DELAY: "60000",
      LLMTRACE_TEST_N: "5",
      LLMTRACE_TEST_PREFIX: "no_exit_flush",
      LLMTRACE_TEST_FLUSH_ON_EXIT: "0",
    }),
  );
  assert.equal(result.code, 0, result.stderr);
  await sleep(300);
  assert.equal(
    rx.spans().filter((s) => s.name.startsWith("no_exit_flush_")).length,
    0,
  );
});

test("the sampler follows OTEL_TRACES_SAMPLER (in a child)", async () => {
  const result = await runFixture(
    "service_name.ts",
    childEnv({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
      OTEL_TRACES_SAMPLER: "always_off",
      LLMTRACE_TEST_SPAN: "sampler_always_off",
    }),
  );
  assert.equal(result.code, 0, result.stderr);
  // The child flushed and shut down before exiting; nothing was sampled.
  await sleep(200);
  assert.equal(
    rx.spans().filter((s) => s.name === "sampler_always_off").length,
    0,
  );
});

test("two racing initTracer calls build one provider with one exporter (in a child)", async () => {
  const rx2 = await startOtlpReceiver();
  try {
    const result = await runFixture(
      "concurrent_init.ts",
      childEnv({
        LLMTRACE_TEST_ENDPOINT_A: rx.url,
        LLMTRACE_TEST_ENDPOINT_B: rx2.url,
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    const a = await oneSpan("race_span_a");
    const b = await oneSpan("race_span_b");
    assert.equal(a.resource["service.name"], "test.race.a");
    assert.equal(b.resource["service.name"], "test.race.a", "same provider");
    assert.equal(a.resource["process.pid"], result.pid);
    assert.equal(b.scope.name, "test.race.b");
    await sleep(100);
    assert.equal(rx2.requests().length, 0, "no second exporter");
  } finally {
    await rx2.close();
  }
});

test("initWorkerTracer validates its arguments", async () => {
  await assert.rejects(
    initWorkerTracer("test.worker", 1 as never, "Worker_0"),
    (e: unknown) =>
      e instanceof TypeError && /processKind/.test((e as Error).message),
  );
  await assert.rejects(
    initWorkerTracer("test.worker", "worker", undefined as never),
    (e: unknown) =>
      e instanceof TypeError && /processName/.test((e as Error).message),
  );
});

test(
  "Deno without --allow-env: initTracer with an explicit endpoint still exports",
  {
    skip: !isDeno,
  },
  async () => {
    const result = await runFixture("deno_no_env.ts", childEnv({}), 20_000, {
      denoPermissions: ["--allow-net=127.0.0.1", "--allow-read", "--no-prompt"],
      args: [rx.url, "noenv_span"],
    });
    assert.equal(result.code, 0, result.stderr);
    const report = lastJson(result);
    assert.equal(report.enabled, true);
    // Without env permission nothing is read from or written to the
    // environment, and no traceparent is found there.
    assert.deepEqual(report.vars, {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
    });
    const span = await oneSpan("noenv_span");
    assert.equal(span.resource["service.name"], "test.noenv");
    assert.equal(span.resource["process.pid"], result.pid);
    assert.equal(span.resource["process.runtime.name"], "deno");
    const inst = await oneSpan("noenv_span_instrumented");
    assert.equal(inst.parentSpanId, undefined);
  },
);
