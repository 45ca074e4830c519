// vLLM's `instrument_manual` assertions, ported: a span from explicit
// timestamps (ms, Date, bigint ns), attributes, kind, parent, links, errors,
// rejected arguments; checked on a real OTLP receiver.
import { VERSION } from "../../src/core/version.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { ROOT_CONTEXT, SpanKind, trace, type Tracer } from "@opentelemetry/api";
import { manualInstrument } from "../../src/vllm/manual_instrument.ts";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { HEX16, nowNs, spanWaiters } from "./instrument_support.ts";

let rx: OtlpReceiver;
let tracer: Tracer;

useTracing("test.instrument", (t) => {
  rx = t.receiver;
  tracer = t.tracer;
});

const { oneSpan } = spanWaiters(() => rx);

test("manualInstrument: number ms, Date and bigint ns arrive as exact nanoseconds", async () => {
  const cases: {
    name: string;
    start: number | Date | bigint;
    end: number | Date | bigint;
    startNs: bigint;
    endNs: bigint;
  }[] = [
    {
      // Fractions of a millisecond that a double holds exactly (an epoch in
      // ms as a double resolves ~0.24 µs, so 123.456 would carry float noise).
      name: "manual_ms",
      start: 1_700_000_000_123.25,
      end: 1_700_000_001_500,
      startNs: 1_700_000_000_123_250_000n,
      endNs: 1_700_000_001_500_000_000n,
    },
    {
      name: "manual_date",
      start: new Date(1_700_000_002_000),
      end: new Date(1_700_000_002_250),
      startNs: 1_700_000_002_000_000_000n,
      endNs: 1_700_000_002_250_000_000n,
    },
    {
      name: "manual_bigint",
      start: 1_700_000_003_000_000_001n,
      end: 1_700_000_003_999_999_999n,
      startNs: 1_700_000_003_000_000_001n,
      endNs: 1_700_000_003_999_999_999n,
    },
    {
      name: "manual_mixed",
      start: 1_700_000_004_000,
      end: 1_700_000_004_000_000_007n,
      startNs: 1_700_000_004_000_000_000n,
      endNs: 1_700_000_004_000_000_007n,
    },
    {
      name: "manual_zero_length",
      start: new Date(1_700_000_005_000),
      end: 1_700_000_005_000,
      startNs: 1_700_000_005_000_000_000n,
      endNs: 1_700_000_005_000_000_000n,
    },
  ];
  const contexts = new Map<string, { traceId: string; spanId: string }>();
  for (const c of cases) {
    const sc = manualInstrument({
      spanName: c.name,
      startTime: c.start,
      endTime: c.end,
    });
    assert.match(sc.spanId, HEX16);
    contexts.set(c.name, sc);
  }
  for (const c of cases) {
    const span = await oneSpan(c.name);
    assert.equal(span.startTimeUnixNano, c.startNs, `${c.name} start`);
    assert.equal(span.endTimeUnixNano, c.endNs, `${c.name} end`);
    assert.equal(span.spanId, contexts.get(c.name)!.spanId);
    assert.equal(span.traceId, contexts.get(c.name)!.traceId);
    assert.equal(span.kind, 1);
    assert.equal(span.scope.name, "llmtrace");
    assert.equal(span.scope.version, VERSION);
  }
});

test("manualInstrument: attributes, kind, parent, links; end defaults to now", async () => {
  const parent = tracer.startSpan("manual_parent");
  const link = {
    context: {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: 1,
    },
    attributes: { "link.reason": "batch" },
  };
  const start = Date.now() - 1200;
  const sc = manualInstrument({
    spanName: "manual_attrs",
    startTime: start,
    kind: SpanKind.CLIENT,
    context: trace.setSpan(ROOT_CONTEXT, parent),
    links: [link],
    attributes: {
      "dynamo.time_seconds": 1.2,
      "count": 3,
      "big": 12n,
      "name": "x",
      "flag": true,
      "list": [1, 2],
      "dropped.object": { a: 1 },
      "dropped.fn": () => 1,
      "dropped.nan": NaN,
      "dropped.null": null,
      "dropped.mixed": [1, "a"],
    },
  });
  const afterNs = nowNs();
  parent.end();
  const span = await oneSpan("manual_attrs");
  const p = await oneSpan("manual_parent");
  assert.equal(span.spanId, sc.spanId);
  assert.equal(span.parentSpanId, p.spanId);
  assert.equal(span.traceId, p.traceId);
  assert.equal(span.kind, 3); // CLIENT
  assert.deepEqual(span.attributes, {
    "dynamo.time_seconds": 1.2,
    count: 3,
    big: 12,
    name: "x",
    flag: true,
    list: [1, 2],
  });
  assert.deepEqual(span.attributeTypes, {
    "dynamo.time_seconds": "double",
    count: "int",
    big: "int",
    name: "string",
    flag: "bool",
    list: "array",
  });
  assert.deepEqual(span.links, [{
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceState: "",
    attributes: { "link.reason": "batch" },
  }]);
  assert.equal(span.startTimeUnixNano, BigInt(start) * 1_000_000n);
  assert.ok(span.endTimeUnixNano <= afterNs + 5_000_000n, "end is now");
  assert.ok(
    span.endTimeUnixNano >= BigInt(start + 1200) * 1_000_000n - 5_000_000n,
    "end is now, not the start",
  );
});

test("manualInstrument: `error` gives ERROR status and an exception event", async () => {
  manualInstrument({
    spanName: "manual_error",
    startTime: 1_700_000_010_000,
    endTime: 1_700_000_011_000,
    error: new SyntaxError("bad compile"),
  });
  manualInstrument({
    spanName: "manual_error_string",
    startTime: 1_700_000_010_000,
    endTime: 1_700_000_011_000,
    error: "plain string",
  });
  const span = await oneSpan("manual_error");
  assert.deepEqual(span.status, { code: 2, message: "bad compile" });
  assert.equal(span.attributes["error.type"], "SyntaxError");
  assert.equal(span.events.length, 1);
  assert.equal(span.events[0].name, "exception");
  assert.equal(span.events[0].attributes["exception.type"], "SyntaxError");
  assert.equal(span.events[0].attributes["exception.message"], "bad compile");
  assert.equal(span.endTimeUnixNano, 1_700_000_011_000_000_000n);
  const s = await oneSpan("manual_error_string");
  assert.deepEqual(s.status, { code: 2, message: "plain string" });
  assert.equal(s.events[0]?.attributes["exception.message"], "plain string");
});

test("manualInstrument: bad times and names are rejected with clear errors, and no span", async () => {
  const reject = (
    name: string,
    opts: Record<string, unknown>,
    type: typeof TypeError | typeof RangeError,
    pattern: RegExp,
  ) => {
    assert.throws(
      () => manualInstrument({ spanName: name, ...opts } as never),
      (e: unknown) => {
        assert.ok(e instanceof type, `${name}: ${String(e)}`);
        assert.match((e as Error).message, pattern, name);
        return true;
      },
    );
  };
  reject(
    "bad_end_before_start",
    {
      startTime: 1_700_000_000_000,
      endTime: 1_699_999_999_999,
    },
    RangeError,
    /endTime.*before.*startTime/,
  );
  reject(
    "bad_end_before_start_ns",
    {
      startTime: 1_700_000_000_000_000_001n,
      endTime: new Date(1_700_000_000_000),
    },
    RangeError,
    /endTime.*before.*startTime/,
  );
  reject("bad_nan", { startTime: NaN }, RangeError, /startTime.*NaN/);
  reject(
    "bad_infinite_end",
    { startTime: 1, endTime: Infinity },
    RangeError,
    /endTime/,
  );
  reject("bad_negative", { startTime: -1 }, RangeError, /startTime/);
  reject("bad_negative_ns", { startTime: -1n }, RangeError, /startTime/);
  reject(
    "bad_invalid_date",
    { startTime: new Date("nope") },
    RangeError,
    /startTime/,
  );
  reject(
    "bad_string",
    { startTime: "2024-01-01" },
    TypeError,
    /startTime.*"2024-01-01"/,
  );
  reject("bad_missing_start", {}, TypeError, /startTime/);
  reject("", { startTime: 1 }, TypeError, /spanName/);
  assert.throws(() => manualInstrument(null as never), TypeError);

  manualInstrument({ spanName: "bad_marker", startTime: Date.now() });
  await oneSpan("bad_marker");
  const bad = rx.spans().filter((s) =>
    s.name.startsWith("bad_") && s.name !== "bad_marker"
  );
  assert.deepEqual(bad.map((s) => s.name), []);
});
