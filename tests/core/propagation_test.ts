// Strict W3C trace context (src/core/propagation.ts): traceparent and
// tracestate parsing, the immutable TraceState, remote-parent contexts and
// header formatting. Trace context into child processes is in
// tests/vllm/env_propagation_test.ts and
// tests/integration/trace_env_subprocess_test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createContextKey,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
  type TraceState,
} from "@opentelemetry/api";
import {
  contextFromTraceparent,
  formatTraceHeaders,
  parseTraceparent,
  parseTracestate,
} from "../../src/core/propagation.ts";
import { useTracing } from "../support/tracing.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const TP = `00-${TRACE_ID}-${SPAN_ID}-01`;

useTracing("test.propagation", () => {});

// ---------------------------------------------------------------------------
// traceparent
// ---------------------------------------------------------------------------

test("parseTraceparent: a valid version-00 header", () => {
  assert.deepEqual(parseTraceparent(TP), {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: 1,
    isRemote: true,
  });
  assert.equal(parseTraceparent(TP.replace(/01$/, "00"))?.traceFlags, 0);
  // Optional whitespace around a header value is not part of the value.
  assert.equal(parseTraceparent(`  ${TP}\t`)?.spanId, SPAN_ID);
});

test("parseTraceparent rejects malformed headers", () => {
  const bad: [string, unknown][] = [
    ["upper-case trace id", `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ["upper-case span id", `00-${TRACE_ID}-00F067AA0BA902B7-01`],
    ["upper-case flags", `00-${TRACE_ID}-${SPAN_ID}-0A`],
    ["upper-case version", `0A-${TRACE_ID}-${SPAN_ID}-01`],
    ["version ff", `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ["non-hex version", `0g-${TRACE_ID}-${SPAN_ID}-01`],
    ["all-zero trace id", `00-${"0".repeat(32)}-${SPAN_ID}-01`],
    ["all-zero span id", `00-${TRACE_ID}-${"0".repeat(16)}-01`],
    ["version 00 with extra field", `${TP}-extra`],
    ["version 00 with trailing dash", `${TP}-`],
    ["duplicated, joined by ','", `${TP},${TP}`],
    ["duplicated, joined by ', '", `${TP}, ${TP}`],
    ["non-hex trace id", `00-${TRACE_ID.slice(0, 31)}g-${SPAN_ID}-01`],
    ["short trace id", `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ["long span id", `00-${TRACE_ID}-${SPAN_ID}0-01`],
    ["one-digit flags", `00-${TRACE_ID}-${SPAN_ID}-1`],
    ["wrong delimiter", `00_${TRACE_ID}_${SPAN_ID}_01`],
    ["inner whitespace", `00- ${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ["empty", ""],
    ["null", null],
    ["undefined", undefined],
    ["number", 42],
  ];
  for (const [label, value] of bad) {
    assert.equal(
      parseTraceparent(value as string),
      undefined,
      `${label}: ${String(value)}`,
    );
  }
});

test("parseTraceparent: a higher version may carry extra fields", () => {
  const future = `01-${TRACE_ID}-${SPAN_ID}-01-what-the-future-holds`;
  assert.deepEqual(parseTraceparent(future), {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: 1,
    isRemote: true,
  });
  assert.equal(
    parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01`)?.traceId,
    TRACE_ID,
  );
  assert.equal(
    parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-00`)?.spanId,
    SPAN_ID,
  );
  // ... but the flags must still end at a '-' boundary.
  assert.equal(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01x`), undefined);
  assert.equal(
    parseTraceparent(
      `01-${TRACE_ID}-${SPAN_ID}-01,01-${TRACE_ID}-${SPAN_ID}-01`,
    ),
    undefined,
  );
});

// ---------------------------------------------------------------------------
// tracestate
// ---------------------------------------------------------------------------

function members(n: number): string {
  return Array.from({ length: n }, (_, i) => `k${i}=v${i}`).join(",");
}

test("parseTracestate: valid lists", () => {
  const ts = parseTracestate("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  assert.equal(ts?.get("congo"), "t61rcWkgMzE");
  assert.equal(ts?.get("rojo"), "00f067aa0ba902b7");
  assert.equal(ts?.get("missing"), undefined);
  assert.equal(ts?.serialize(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");

  // OWS around members and empty members are allowed.
  assert.equal(
    parseTracestate(" a=1 ,\tb=2\t,, c=3")?.serialize(),
    "a=1,b=2,c=3",
  );
  // '@' after the first character (multi-tenant keys); value with inner space.
  assert.equal(parseTracestate("tenant@vendor=x")?.get("tenant@vendor"), "x");
  assert.equal(parseTracestate("k_-*/@9=a b")?.get("k_-*/@9"), "a b");
  assert.equal(parseTracestate("0digit=1")?.get("0digit"), "1");

  // Exactly 32 members, a 256-character key, a 256-character value.
  assert.equal(parseTracestate(members(32))?.get("k31"), "v31");
  const key256 = "a" + "b".repeat(255);
  assert.equal(parseTracestate(`${key256}=1`)?.get(key256), "1");
  const val256 = "v".repeat(256);
  assert.equal(parseTracestate(`a=${val256}`)?.get("a"), val256);
});

test("parseTracestate rejects the whole header for any bad member", () => {
  const bad: [string, unknown][] = [
    ["33 members", members(33)],
    ["257-character key", `${"a".repeat(257)}=1`],
    ["257-character value", `a=${"v".repeat(257)}`],
    ["upper-case key", "UPPER=1"],
    ["upper-case key among good", "a=1,Bad=2"],
    ["key starting with '@'", "@vendor=1"],
    ["key starting with '_'", "_a=1"],
    ["key with '.'", "a.b=1"],
    ["key with space", "a b=1"],
    ["member without '='", "a=1,b"],
    ["empty key", "=1"],
    ["empty value", "a="],
    ["value with '='", "a=b=c"],
    ["value with control character", "a=b\u0001"],
    ["33 members, one of them a duplicate", `${members(32)},k0=again`],
    ["empty", ""],
    ["only commas", " , ,"],
    ["null", null],
    ["undefined", undefined],
  ];
  for (const [label, value] of bad) {
    assert.equal(parseTracestate(value as string), undefined, label);
  }
});

test("parseTracestate keeps the header when a key repeats: the first value stays", () => {
  // W3C strict level 2 (test_tracestate_duplicated_keys): the header is
  // inherited, with the duplicates kept or all but one discarded.
  assert.equal(parseTracestate("a=1,a=1")?.serialize(), "a=1");
  assert.equal(parseTracestate("a=1,b=2,a=3")?.serialize(), "a=1,b=2");
  // Two headers, joined with "," as Headers does.
  assert.equal(parseTracestate("a=1, a=2")?.get("a"), "1");
  // A bad member still invalidates the whole header, duplicate or not.
  assert.equal(parseTracestate("a=1,a=B=2"), undefined);
});

test("the strict TraceState is immutable and keeps the W3C rules", () => {
  const ts = parseTracestate("a=1,b=2")!;
  const updated = ts.set("b", "3");
  assert.equal(
    updated.serialize(),
    "b=3,a=1",
    "updated key moves to the front",
  );
  assert.equal(ts.serialize(), "a=1,b=2", "original unchanged");
  assert.equal(ts.set("c", "4").serialize(), "c=4,a=1,b=2");
  assert.equal(ts.unset("a").serialize(), "b=2");
  assert.equal(ts.serialize(), "a=1,b=2");
  // Invalid entries are refused.
  assert.equal(ts.set("Bad", "1"), ts);
  assert.equal(ts.set("ok", "x=y"), ts);
  // Never more than 32 members.
  const full = parseTracestate(members(32))!;
  const more = full.set("new", "1");
  assert.equal(more.serialize().split(",").length, 32);
  assert.equal(more.get("new"), "1");
  assert.equal(
    more.get("k31"),
    undefined,
    "the oldest (last) member is dropped",
  );
});

// ---------------------------------------------------------------------------
// contexts and formatting
// ---------------------------------------------------------------------------

test("contextFromTraceparent: remote parent, tracestate, base context", () => {
  const KEY = createContextKey("llmtrace-test");
  const base = ROOT_CONTEXT.setValue(KEY, "kept");
  const ctx = contextFromTraceparent(TP, "a=1", base)!;
  assert.equal(ctx.getValue(KEY), "kept");
  const sc = trace.getSpanContext(ctx)!;
  assert.equal(sc.traceId, TRACE_ID);
  assert.equal(sc.spanId, SPAN_ID);
  assert.equal(sc.isRemote, true);
  assert.equal(sc.traceState?.get("a"), "1");

  assert.equal(contextFromTraceparent(undefined), undefined);
  assert.equal(contextFromTraceparent(TP.toUpperCase(), "a=1"), undefined);
  const dropped = trace.getSpanContext(contextFromTraceparent(TP, "A=1")!);
  assert.equal(dropped?.traceId, TRACE_ID);
  assert.equal(dropped?.traceState, undefined);
});

test("formatTraceHeaders: version 00, flags, tracestate, invalid contexts", () => {
  const sc: SpanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 };
  assert.deepEqual(formatTraceHeaders(sc), { traceparent: TP });
  assert.deepEqual(formatTraceHeaders({ ...sc, traceFlags: 0 }), {
    traceparent: `00-${TRACE_ID}-${SPAN_ID}-00`,
  });
  assert.deepEqual(
    formatTraceHeaders({ ...sc, traceState: parseTracestate("x=1,y=2") }),
    { traceparent: TP, tracestate: "x=1,y=2" },
  );
  // A TraceState that serializes to something invalid is left out.
  const rogue: TraceState = {
    get: () => undefined,
    set() {
      return this;
    },
    unset() {
      return this;
    },
    serialize: () => "NOT VALID",
  };
  assert.deepEqual(formatTraceHeaders({ ...sc, traceState: rogue }), {
    traceparent: TP,
  });
  assert.equal(formatTraceHeaders(undefined), undefined);
  assert.equal(
    formatTraceHeaders({ ...sc, traceId: "0".repeat(32) }),
    undefined,
  );
  assert.equal(
    formatTraceHeaders({ ...sc, spanId: "0".repeat(16) }),
    undefined,
  );
  // Round trip; a future version is re-emitted as version 00 without extras.
  assert.equal(formatTraceHeaders(parseTraceparent(TP))?.traceparent, TP);
  assert.equal(
    formatTraceHeaders(parseTraceparent(`02-${TRACE_ID}-${SPAN_ID}-01-x`))
      ?.traceparent,
    TP,
  );
});
