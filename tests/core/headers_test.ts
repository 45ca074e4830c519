// Header helpers (vLLM's extract_trace_headers / contains_trace_headers /
// extract_trace_context) over every accepted header shape.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { trace } from "@opentelemetry/api";
import {
  containsTraceHeaders,
  extractTraceContext,
  extractTraceHeaders,
  headerGetter,
  type HeadersLike,
} from "../../src/core/headers.ts";
import { loadOtelApi } from "../../src/core/api.ts";

// Contexts need the API, which llmtrace loads only on demand.
before(async () => {
  await loadOtelApi();
});

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const TP = `00-${TRACE_ID}-${SPAN_ID}-01`;
const TP2 = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
const TS = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

/** Every shape carrying TP and TS, with mixed-case names and noise headers. */
function shapes(): [string, HeadersLike][] {
  return [
    [
      "Headers",
      new Headers({ traceparent: TP, tracestate: TS, "content-type": "x" }),
    ],
    [
      "Request",
      new Request("http://127.0.0.1/v1/chat/completions", {
        method: "POST",
        headers: { Traceparent: TP, TraceState: TS, accept: "*/*" },
        body: "{}",
      }),
    ],
    [
      "object with headers: Headers",
      { headers: new Headers({ TRACEPARENT: TP, TRACESTATE: TS }) },
    ],
    [
      "plain object, mixed case",
      { "Content-Type": "application/json", Traceparent: TP, TraceState: TS },
    ],
    [
      "plain object, lower case",
      { traceparent: TP, tracestate: TS, "x-other": "1" },
    ],
    [
      "plain object, node:http array values",
      { traceparent: [TP], tracestate: [TS], "set-cookie": ["a", "b"] },
    ],
    [
      "Map, mixed case",
      new Map([["TraceParent", TP], ["TRACESTATE", TS], ["accept", "x"]]),
    ],
    [
      "array of pairs",
      [["accept", "x"], ["Traceparent", TP], ["tracestate", TS]] as [
        string,
        string,
      ][],
    ],
    [
      "iterable (generator) of pairs",
      (function* () {
        yield ["traceparent", TP] as const;
        yield ["TraceState", TS] as const;
      })(),
    ],
  ];
}

test("extractTraceHeaders: every shape gives lower-case traceparent and tracestate only", () => {
  for (const [label, h] of shapes()) {
    assert.deepEqual(
      extractTraceHeaders(h),
      { traceparent: TP, tracestate: TS },
      label,
    );
  }
});

test("containsTraceHeaders: true for every shape carrying trace headers", () => {
  for (const [label, h] of shapes()) {
    assert.equal(containsTraceHeaders(h), true, label);
  }
});

test("extractTraceContext: every shape gives the remote parent and its tracestate", () => {
  for (const [label, h] of shapes()) {
    const ctx = extractTraceContext(h);
    assert.ok(ctx, label);
    const sc = trace.getSpanContext(ctx);
    assert.ok(sc, label);
    assert.equal(sc.traceId, TRACE_ID, label);
    assert.equal(sc.spanId, SPAN_ID, label);
    assert.equal(sc.traceFlags, 1, label);
    assert.equal(sc.isRemote, true, label);
    assert.equal(sc.traceState?.get("congo"), "t61rcWkgMzE", label);
    assert.equal(sc.traceState?.get("rojo"), "00f067aa0ba902b7", label);
    assert.equal(sc.traceState?.serialize(), TS, label);
  }
});

test("null, undefined and headers without trace context", () => {
  const empties: [string, HeadersLike][] = [
    ["null", null],
    ["undefined", undefined],
    ["empty Headers", new Headers()],
    ["Headers without trace", new Headers({ "content-type": "x" })],
    ["Request without trace", new Request("http://127.0.0.1/")],
    ["empty object", {}],
    ["object without trace", { "x-traceparent": TP, traceparentx: TP }],
    ["empty Map", new Map()],
    ["empty array", []],
    ["array of non-pairs", [["traceparent"]] as unknown as [string, string][]],
    ["undefined values", { traceparent: undefined, tracestate: undefined }],
  ];
  for (const [label, h] of empties) {
    assert.deepEqual(extractTraceHeaders(h), {}, label);
    assert.equal(containsTraceHeaders(h), false, label);
    assert.equal(extractTraceContext(h), undefined, label);
  }
  // Not objects at all: read as no headers, never an error.
  for (const v of ["traceparent", 42, true]) {
    const h = v as unknown as HeadersLike;
    assert.deepEqual(extractTraceHeaders(h), {}, String(v));
    assert.equal(containsTraceHeaders(h), false, String(v));
    assert.equal(extractTraceContext(h), undefined, String(v));
  }
});

test("only one of the two headers", () => {
  const onlyState = new Headers({ TraceState: "a=1" });
  assert.equal(containsTraceHeaders(onlyState), true);
  assert.deepEqual(extractTraceHeaders(onlyState), { tracestate: "a=1" });
  // tracestate without traceparent is no parent.
  assert.equal(extractTraceContext(onlyState), undefined);

  const onlyParent = { Traceparent: TP };
  assert.equal(containsTraceHeaders(onlyParent), true);
  assert.deepEqual(extractTraceHeaders(onlyParent), { traceparent: TP });
  const sc = trace.getSpanContext(extractTraceContext(onlyParent)!);
  assert.equal(sc?.spanId, SPAN_ID);
  assert.equal(sc?.traceState, undefined);
});

test("extractTraceHeaders copies values verbatim, even invalid ones", () => {
  // vLLM copies the raw header values; validation happens on extraction.
  const h = { traceparent: "garbage", tracestate: "UPPER=1" };
  assert.deepEqual(extractTraceHeaders(h), h);
  assert.equal(containsTraceHeaders(h), true);
  assert.equal(extractTraceContext(h), undefined);
});

test("extractTraceContext: an invalid tracestate is dropped, the traceparent kept", () => {
  const ctx = extractTraceContext({ traceparent: TP, tracestate: "BAD KEY=1" });
  const sc = trace.getSpanContext(ctx!);
  assert.equal(sc?.traceId, TRACE_ID);
  assert.equal(sc?.traceState, undefined);
});

test("extractTraceContext: an invalid traceparent gives undefined for every shape", () => {
  const bad = TP.toUpperCase();
  const inputs: HeadersLike[] = [
    new Headers({ traceparent: bad }),
    new Request("http://127.0.0.1/", { headers: { traceparent: bad } }),
    { Traceparent: bad },
    new Map([["traceparent", bad]]),
    [["traceparent", bad]],
  ];
  for (const h of inputs) {
    assert.equal(containsTraceHeaders(h), true);
    assert.equal(extractTraceContext(h), undefined);
  }
});

test("duplicated traceparent headers join with ',' and are rejected", () => {
  const dupHeaders = new Headers();
  dupHeaders.append("traceparent", TP);
  dupHeaders.append("traceparent", TP2);
  const dups: [string, HeadersLike][] = [
    ["Headers.append twice", dupHeaders],
    ["node:http array value", { traceparent: [TP, TP2] }],
    ["array of pairs", [["traceparent", TP], ["Traceparent", TP2]]],
    [
      "Map with two spellings",
      new Map([["traceparent", TP], ["TraceParent", TP2]]),
    ],
    ["object with two spellings", { traceparent: TP, Traceparent: TP2 }],
    ["same value twice", [["traceparent", TP], ["traceparent", TP]]],
  ];
  for (const [label, h] of dups) {
    const joined = extractTraceHeaders(h).traceparent;
    assert.ok(joined?.includes(","), `${label}: ${joined}`);
    assert.ok(joined?.includes(TP), `${label}: ${joined}`);
    assert.equal(containsTraceHeaders(h), true, label);
    assert.equal(extractTraceContext(h), undefined, label);
  }
});

test("several tracestate headers join into one list", () => {
  const h = new Headers();
  h.append("tracestate", "a=1");
  h.append("tracestate", "b=2");
  for (
    const input of [h, { tracestate: ["a=1", "b=2"], traceparent: TP }, [
      ["tracestate", "a=1"],
      ["TraceState", "b=2"],
      ["traceparent", TP],
    ]] as HeadersLike[]
  ) {
    const v = extractTraceHeaders(input).tracestate?.replace(/\s/g, "");
    assert.equal(v, "a=1,b=2");
  }
  const sc = trace.getSpanContext(
    extractTraceContext({ traceparent: TP, tracestate: ["a=1", "b=2"] })!,
  );
  assert.equal(sc?.traceState?.serialize(), "a=1,b=2");
});

test("headerGetter is case-insensitive and never throws", () => {
  const get = headerGetter({ "X-Mixed-Case": "v", traceparent: TP });
  assert.equal(get("x-mixed-case"), "v");
  assert.equal(get("traceparent"), TP);
  assert.equal(get("missing"), undefined);

  const hostile: [string, HeadersLike][] = [
    ["throwing headers getter", {
      get headers(): Headers {
        throw new Error("boom");
      },
    } as unknown as HeadersLike],
    ["throwing value getter", {
      get traceparent(): string {
        throw new Error("boom");
      },
    } as unknown as HeadersLike],
    [
      "proxy throwing on ownKeys",
      new Proxy({}, {
        ownKeys() {
          throw new Error("boom");
        },
      }) as HeadersLike,
    ],
    ["throwing iterator", {
      [Symbol.iterator]() {
        throw new Error("boom");
      },
    } as unknown as HeadersLike],
  ];
  for (const [label, h] of hostile) {
    assert.doesNotThrow(() => extractTraceHeaders(h), label);
    assert.deepEqual(extractTraceHeaders(h), {}, label);
    assert.equal(containsTraceHeaders(h), false, label);
    assert.equal(extractTraceContext(h), undefined, label);
  }
});

test("headerGetter reads an endless iterable boundedly", () => {
  const endless = {
    *[Symbol.iterator]() {
      for (let i = 0;; i++) yield [`x-${i}`, "v"] as const;
    },
  };
  const started = Date.now();
  assert.deepEqual(extractTraceHeaders(endless), {});
  assert.ok(Date.now() - started < 5000);
});
