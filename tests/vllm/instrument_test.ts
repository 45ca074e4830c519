// vLLM's `@instrument` assertions, ported: spans of sync and async
// functions, nesting, a parent from the environment, errors, generators,
// code.* attributes; checked on a real OTLP receiver. (`instrument_manual`:
// manual_instrument_test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { instrument } from "../../src/vllm/instrument.ts";
import { contextFromTraceparent } from "../../src/core/propagation.ts";
import { forceFlush } from "../../src/sdk/tracer_provider.ts";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { sleep, withEnv } from "../support/helpers.ts";
import { HEX16, HEX32, nowNs, spanWaiters } from "./instrument_support.ts";

let rx: OtlpReceiver;
let tracer: Tracer;

useTracing("test.instrument", (t) => {
  rx = t.receiver;
  tracer = t.tracer;
});

const { spansNamed, oneSpan } = spanWaiters(() => rx);

// ---------------------------------------------------------------------------
// vLLM's test_tracing assertions
// ---------------------------------------------------------------------------

test("instrument: a sync function (span sync_task)", async () => {
  const before = nowNs();
  const syncFunc = instrument(function syncFunc(
    this: { k: number },
    a: number,
    b: number,
  ) {
    return a + b + this.k;
  }, { spanName: "sync_task" });
  assert.equal(syncFunc.name, "syncFunc");
  const value = syncFunc.call({ k: 1 }, 2, 3);
  assert.equal(value, 6, "result, arguments and `this` pass through");
  const span = await oneSpan("sync_task");
  assert.equal(span.kind, 1); // INTERNAL (API 0 + 1)
  assert.match(span.traceId, HEX32);
  assert.match(span.spanId, HEX16);
  assert.notEqual(span.traceId, "0".repeat(32));
  assert.equal(span.parentSpanId, undefined, "a root span");
  assert.deepEqual(span.status, { code: 0, message: "" });
  assert.deepEqual(span.events, []);
  assert.equal(span.scope.name, "instrument_test");
  assert.equal(span.resource["service.name"], "test.instrument");
  assert.ok(span.startTimeUnixNano <= span.endTimeUnixNano);
  // Wall-clock timestamps of this test (slack for clock granularity).
  assert.ok(span.startTimeUnixNano >= before - 5_000_000n);
  assert.ok(span.endTimeUnixNano <= nowNs() + 5_000_000n);
  assert.equal(span.attributes["code.function"], "syncFunc");
  assert.equal(span.attributeTypes["code.function"], "string");
});

test("instrument: an async function (span async_task) ends when its promise settles", async () => {
  const asyncFunc = instrument(async function asyncFunc(x: string) {
    await sleep(60);
    return `done ${x}`;
  }, { spanName: "async_task" });
  const p = asyncFunc("now");
  assert.ok(p instanceof Promise);
  assert.equal(await p, "done now");
  const span = await oneSpan("async_task");
  assert.equal(span.kind, 1);
  assert.equal(span.parentSpanId, undefined);
  assert.deepEqual(span.status, { code: 0, message: "" });
  const durationMs = Number(span.endTimeUnixNano - span.startTimeUnixNano) /
    1e6;
  assert.ok(durationMs >= 55, `duration ${durationMs} ms covers the await`);
  assert.equal(span.attributes["code.function"], "asyncFunc");
});

test("instrument: nested calls make parent and child (StackContextManager)", async () => {
  const child = instrument(function child() {
    return trace.getActiveSpan()?.spanContext().spanId;
  }, { spanName: "nested_child" });
  let parentActive: string | undefined;
  const parent = instrument(function parent() {
    parentActive = trace.getActiveSpan()?.spanContext().spanId;
    return child();
  }, { spanName: "nested_parent" });
  const childActive = parent();
  const p = await oneSpan("nested_parent");
  const c = await oneSpan("nested_child");
  assert.equal(c.parentSpanId, p.spanId);
  assert.equal(c.traceId, p.traceId);
  assert.equal(p.parentSpanId, undefined);
  assert.notEqual(c.spanId, p.spanId);
  // While a wrapped function runs, its span is the active one.
  assert.equal(parentActive, p.spanId);
  assert.equal(childActive, c.spanId);
  assert.equal(trace.getActiveSpan(), undefined, "nothing active afterwards");
  // The child runs inside the parent. (The SDK takes a span's start from
  // Date.now(), whole milliseconds, and its end as start + a performance.now()
  // duration, so two spans' ends may be out of order by under 1 ms.)
  assert.ok(c.startTimeUnixNano >= p.startTimeUnixNano);
  assert.ok(c.endTimeUnixNano <= p.endTimeUnixNano + 1_000_000n);
});

test("instrument: an async parent's child started before the first await nests too", async () => {
  const child = instrument(async function asyncChild() {
    await sleep(5);
  }, { spanName: "nested_async_child" });
  const parent = instrument(async function asyncParent() {
    const p = child(); // synchronously inside the parent's span
    await p;
  }, { spanName: "nested_async_parent" });
  await parent();
  const p = await oneSpan("nested_async_parent");
  const c = await oneSpan("nested_async_child");
  assert.equal(c.parentSpanId, p.spanId);
  assert.equal(c.traceId, p.traceId);
});

test("instrument: the parent comes from `traceparent` in the environment", async () => {
  const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  const SPAN_ID = "00f067aa0ba902b7";
  const fn = instrument(() => "child", { spanName: "env_parent_child" });
  await withEnv(
    { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: "vllm=env" },
    () => fn(),
  );
  assert.equal(process.env.traceparent, undefined, "env restored");
  const span = await oneSpan("env_parent_child");
  assert.equal(span.traceId, TRACE_ID);
  assert.equal(span.parentSpanId, SPAN_ID);
  assert.equal(span.traceState, "vllm=env");

  // Upper-case names, as some launchers export them.
  await withEnv(
    { TRACEPARENT: `00-${TRACE_ID}-${SPAN_ID}-01` },
    () => instrument(() => 1, { spanName: "env_parent_upper" })(),
  );
  const upper = await oneSpan("env_parent_upper");
  assert.equal(upper.traceId, TRACE_ID);
  assert.equal(upper.parentSpanId, SPAN_ID);

  // An invalid traceparent in the environment starts a new trace.
  await withEnv(
    { traceparent: `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01` },
    () => instrument(() => 1, { spanName: "env_parent_invalid" })(),
  );
  const fresh = await oneSpan("env_parent_invalid");
  assert.notEqual(fresh.traceId, TRACE_ID);
  assert.equal(fresh.parentSpanId, undefined);
});

test("instrument: an active span wins over the environment's traceparent", async () => {
  const outer = tracer.startSpan("active_over_env_outer");
  await withEnv(
    { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
    () =>
      context.with(
        trace.setSpan(ROOT_CONTEXT, outer),
        instrument(() => 1, { spanName: "active_over_env_inner" }),
      ),
  );
  outer.end();
  const o = await oneSpan("active_over_env_outer");
  const i = await oneSpan("active_over_env_inner");
  assert.equal(i.parentSpanId, o.spanId);
  assert.equal(i.traceId, o.traceId);
});

test("instrument: code.* attributes (code.lineno is a string)", async () => {
  const probe = instrument(function codeAttrsProbe() {}, {
    spanName: "code_attrs",
  });
  probe();
  // The line of the `instrument(` call above, read from this file.
  const file = fileURLToPath(import.meta.url);
  const lines = readFileSync(file, "utf8").split("\n");
  const line =
    lines.findIndex((l) => l.includes("instrument(function codeAttrsProbe")) +
    1;
  assert.ok(line > 0);
  const span = await oneSpan("code_attrs");
  assert.equal(span.attributes["code.function"], "codeAttrsProbe");
  assert.equal(span.attributes["code.namespace"], "instrument_test");
  assert.equal(span.attributes["code.lineno"], String(line));
  assert.equal(span.attributeTypes["code.lineno"], "string");
  const path = span.attributes["code.filepath"];
  assert.equal(typeof path, "string");
  assert.ok(
    (path as string).endsWith("tests/vllm/instrument_test.ts"),
    String(path),
  );
  assert.equal(span.attributeTypes["code.filepath"], "string");
  assert.equal(span.scope.name, "instrument_test");
});

test("instrument: options (kind, attributes, namespace, fixed and per-call context)", async () => {
  const parentCtx = contextFromTraceparent(
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  )!;
  const withOptions = instrument(function optionsProbe() {}, {
    spanName: "instrument_options",
    kind: SpanKind.SERVER,
    namespace: "my.ns",
    attributes: {
      "code.function": "overridden",
      "app.int": 7,
      "app.double": 0.25,
      "app.bool": false,
      "app.list": ["a", "b"],
    },
    context: parentCtx,
  });
  withOptions();
  const span = await oneSpan("instrument_options");
  assert.equal(span.kind, 2); // SERVER
  assert.equal(span.traceId, "0af7651916cd43dd8448eb211c80319c");
  assert.equal(span.parentSpanId, "b7ad6b7169203331");
  assert.equal(span.scope.name, "my.ns");
  assert.equal(span.attributes["code.namespace"], "my.ns");
  assert.equal(span.attributes["code.function"], "overridden");
  assert.equal(span.attributes["app.int"], 7);
  assert.equal(span.attributeTypes["app.int"], "int");
  assert.equal(span.attributes["app.double"], 0.25);
  assert.equal(span.attributeTypes["app.double"], "double");
  assert.equal(span.attributes["app.bool"], false);
  assert.equal(span.attributeTypes["app.bool"], "bool");
  assert.deepEqual(span.attributes["app.list"], ["a", "b"]);
  assert.equal(span.attributeTypes["app.list"], "array");

  // Per-call parent from the arguments.
  const perCall = instrument(function perCallProbe(_tp: string) {}, {
    spanName: "instrument_per_call_ctx",
    context: (tp: string) => contextFromTraceparent(tp),
  });
  perCall("00-11111111111111111111111111111111-2222222222222222-01");
  perCall("00-33333333333333333333333333333333-4444444444444444-01");
  const both = await spansNamed("instrument_per_call_ctx", 2);
  assert.deepEqual(
    both.map((s) => [s.traceId, s.parentSpanId]).sort(),
    [
      ["11111111111111111111111111111111", "2222222222222222"],
      ["33333333333333333333333333333333", "4444444444444444"],
    ],
  );

  assert.throws(
    () => instrument("nope" as never),
    (e: unknown) => e instanceof TypeError && /function/.test(e.message),
  );
});

test("instrument: a throwing function gives ERROR status and an exception event", async () => {
  class BoomError extends Error {
    override name = "BoomError";
  }
  const boom = new BoomError("sync failure");
  const f = instrument(function failing() {
    throw boom;
  }, { spanName: "error_sync" });
  assert.throws(() => f(), (e) => e === boom);
  const span = await oneSpan("error_sync");
  assert.deepEqual(span.status, { code: 2, message: "sync failure" });
  assert.equal(span.attributes["error.type"], "BoomError");
  assert.equal(span.events.length, 1);
  assert.equal(span.events[0].name, "exception");
  assert.equal(span.events[0].attributes["exception.type"], "BoomError");
  assert.equal(span.events[0].attributes["exception.message"], "sync failure");
  assert.match(
    String(span.events[0].attributes["exception.stacktrace"]),
    /sync failure/,
  );
  assert.ok(span.events[0].timeUnixNano >= span.startTimeUnixNano);
  assert.ok(span.events[0].timeUnixNano <= span.endTimeUnixNano);
});

test("instrument: a rejected promise gives ERROR status; recordException: false skips the event", async () => {
  const rejecting = instrument(async function rejecting() {
    await sleep(1);
    throw new TypeError("async failure");
  }, { spanName: "error_async" });
  await assert.rejects(rejecting(), {
    name: "TypeError",
    message: "async failure",
  });
  const span = await oneSpan("error_async");
  assert.deepEqual(span.status, { code: 2, message: "async failure" });
  assert.equal(span.attributes["error.type"], "TypeError");
  assert.equal(span.events.length, 1);
  assert.equal(span.events[0].attributes["exception.type"], "TypeError");

  const quiet = instrument(() => {
    throw "a string";
  }, { spanName: "error_quiet", recordException: false });
  assert.throws(() => quiet(), (e) => e === "a string");
  const q = await oneSpan("error_quiet");
  assert.deepEqual(q.status, { code: 2, message: "a string" });
  assert.deepEqual(q.events, []);
  assert.equal(q.attributes["error.type"], "string");
});

test("instrument: an async generator's span covers the whole iteration", async () => {
  let resumedAfterLastYield = 0n;
  const gen = instrument(async function* tokens() {
    yield "a";
    await sleep(60);
    yield "b";
    await sleep(60);
    resumedAfterLastYield = nowNs();
  }, { spanName: "async_gen" });
  const it = gen();
  assert.deepEqual(await it.next(), { value: "a", done: false });
  // Mid-iteration the span has not ended, so nothing can be exported.
  await forceFlush();
  assert.equal(rx.spans().filter((s) => s.name === "async_gen").length, 0);
  const rest: string[] = [];
  for await (const t of it) rest.push(t);
  assert.deepEqual(rest, ["b"]);
  const span = await oneSpan("async_gen");
  const durationMs = Number(span.endTimeUnixNano - span.startTimeUnixNano) /
    1e6;
  assert.ok(durationMs >= 115, `duration ${durationMs} ms covers both sleeps`);
  assert.ok(resumedAfterLastYield > 0n);
  assert.ok(
    span.endTimeUnixNano >= resumedAfterLastYield - 5_000_000n,
    "ends after the code after the last yield ran",
  );
  assert.deepEqual(span.status, { code: 0, message: "" });
});

test("instrument: breaking out of an async generator ends the span; a throw inside marks it", async () => {
  const gen = instrument(async function* counter() {
    for (let i = 0;; i++) yield i;
  }, { spanName: "async_gen_break" });
  for await (const i of gen()) if (i === 3) break;
  const b = await oneSpan("async_gen_break");
  assert.equal(b.status.code, 0);

  const failing = instrument(async function* failingGen() {
    yield 1;
    throw new RangeError("gen failure");
  }, { spanName: "async_gen_error" });
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const v of failing()) seen.push(v);
  }, { name: "RangeError", message: "gen failure" });
  assert.deepEqual(seen, [1]);
  const e = await oneSpan("async_gen_error");
  assert.deepEqual(e.status, { code: 2, message: "gen failure" });
  assert.equal(e.events[0]?.attributes["exception.type"], "RangeError");
});

test("instrument: a sync generator's span covers the whole iteration", async () => {
  const gen = instrument(function* numbers() {
    yield 1;
    const until = Date.now() + 30;
    while (Date.now() < until) { /* measurable work between yields */ }
    yield 2;
  }, { spanName: "sync_gen" });
  const it = gen();
  assert.deepEqual(it.next(), { value: 1, done: false });
  await forceFlush();
  assert.equal(rx.spans().filter((s) => s.name === "sync_gen").length, 0);
  assert.deepEqual([...it], [2]);
  const span = await oneSpan("sync_gen");
  const durationMs = Number(span.endTimeUnixNano - span.startTimeUnixNano) /
    1e6;
  assert.ok(durationMs >= 25, `duration ${durationMs} ms`);
});
