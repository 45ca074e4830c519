// The trace store and what it derives: the last N traces kept (oldest out
// first), spans per trace bounded, retries replacing spans, changes since a
// version; a routed trace's row (root, model, router TTFT, tokens, outcome);
// and the per-model summary's percentiles against an independent nearest-rank.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeTraceProto } from "../../src/view/otlp_proto.ts";
import { TraceStore } from "../../src/view/store.ts";
import { outcomeOf } from "../../src/view/facts.ts";
import { summarize, TTFT_BOUNDS_MS } from "../../src/view/summary.ts";
import type { ViewSpan } from "../../src/view/model.ts";
import { percentile, protoBody, routedRequest } from "./traces.ts";

const decoded = (plan: Parameters<typeof routedRequest>[0] = {}): ViewSpan[] =>
  decodeTraceProto(protoBody(routedRequest(plan)));

test("keeps the last maxTraces traces, dropping the oldest first", () => {
  const store = new TraceStore({ maxTraces: 3 });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const spans = decoded({ startMs: 1_000_000 + i });
    ids.push(spans[0].traceId);
    store.add(spans);
  }
  assert.equal(store.size, 3);
  assert.equal(store.droppedTraces, 2);
  assert.equal(store.spanCount, 18);
  assert.deepEqual(store.rows().map((r) => r.traceId), ids.slice(2).reverse());
  assert.equal(store.trace(ids[0]), undefined);
  assert.equal(store.changes().minSeq, 2);
});

test("spans of one trace arriving in several batches join one row", () => {
  const store = new TraceStore();
  const spans = decoded();
  store.add(spans.slice(0, 2));
  const v1 = store.version;
  assert.equal(store.rows()[0].spans, 2);
  store.add(spans.slice(2));
  assert.equal(store.size, 1);
  const row = store.rows()[0];
  assert.equal(row.spans, 6);
  assert.equal(row.name, "client");
  assert.equal(row.partial, false);
  assert.equal(store.changes(v1).rows.length, 1);
  assert.equal(store.changes(store.version).rows.length, 0);
});

test("a retried batch replaces its spans instead of doubling them", () => {
  const store = new TraceStore();
  const spans = decoded();
  store.add(spans);
  store.add(spans);
  assert.equal(store.spanCount, 6);
  assert.equal(store.rows()[0].spans, 6);
});

test("a trace keeps at most maxSpansPerTrace spans; the rest are counted", () => {
  const store = new TraceStore({ maxSpansPerTrace: 4 });
  store.add(decoded());
  const t = store.trace(store.rows()[0].traceId)!;
  assert.equal(t.placed.length, 4);
  assert.equal(t.droppedSpans, 2);
});

test("the byte budget drops old traces but keeps the newest", () => {
  const store = new TraceStore({ maxBytes: 1 });
  store.add(decoded());
  store.add(decoded());
  assert.equal(store.size, 1);
  assert.equal(store.droppedTraces, 1);
});

test("limits must be positive integers, named in the error", () => {
  assert.throws(
    () => new TraceStore({ maxTraces: 0 }),
    /maxTraces must be a positive integer, got 0/,
  );
});

test("a routed trace's row: root, tree order, model, router TTFT, tokens", () => {
  const store = new TraceStore();
  store.add(
    decoded({
      model: "m/a",
      ttftMs: 40,
      engineTtftMs: 31,
      durationMs: 120,
      outTokens: 11,
    }),
  );
  const [row] = store.rows();
  assert.equal(row.name, "client");
  assert.equal(row.model, "m/a");
  assert.equal(row.route, "/v1/chat/completions");
  assert.equal(row.ttftMs, 40); // the router's first chunk, nearest the root
  assert.equal(row.inTokens, 13);
  assert.equal(row.outTokens, 11);
  assert.equal(row.durationMs, 120);
  assert.equal(row.outcome, "ok");
  // TPOT of the router's span: (duration − TTFT) / (tokens − 1).
  assert.ok(Math.abs(row.tpotMs! - (118 - 40) / 10) < 1e-9, String(row.tpotMs));
  const t = store.trace(row.traceId)!;
  assert.deepEqual(
    t.placed.map((p) => [p.depth, p.span.name]),
    [
      [0, "client"],
      [1, "POST /v1/chat/completions"],
      [2, "chat m/a"],
      [3, "POST /v1/chat/completions"],
      [4, "tokenize"],
      [4, "llm_request"],
    ],
  );
  const llm = t.placed[5].facts;
  assert.equal(llm.engineTtftMs, 31);
  assert.equal(llm.queueMs, 1);
  assert.equal(llm.prefillMs, 30);
  assert.equal(llm.decodeMs, 120 - 8 - 31);
});

test("outcomes: a router 500 is an error, a client gone is a cancel", () => {
  const store = new TraceStore();
  store.add(decoded({ outcome: "error" }));
  store.add(decoded({ outcome: "cancel" }));
  store.add(decoded());
  assert.deepEqual(store.rows().map((r) => r.outcome), [
    "ok",
    "cancel",
    "error",
  ]);
});

test("a span whose parent never arrived makes a partial trace; cycles end", () => {
  const store = new TraceStore();
  const spans = decoded();
  store.add(spans.filter((s) => s.name !== "client"));
  assert.equal(store.rows()[0].partial, true);
  const a = { ...spans[0], spanId: "aa", parentSpanId: "bb" };
  const b = { ...spans[0], spanId: "bb", parentSpanId: "aa" };
  const other = new TraceStore();
  other.add([a, b]);
  assert.equal(other.trace(a.traceId)!.placed.length, 2);
});

test("summary: counts, rates and nearest-rank percentiles per model", () => {
  const store = new TraceStore();
  const ttfts = [12, 35, 35, 48, 51, 77, 90, 130, 260, 900, 1500];
  const durations = ttfts.map((t, i) => t + 100 + i * 7);
  ttfts.forEach((t, i) =>
    store.add(decoded({
      model: "m/a",
      ttftMs: t,
      durationMs: durations[i],
      outcome: i === 3 ? "error" : i === 4 || i === 5 ? "cancel" : "ok",
    }))
  );
  store.add(decoded({ model: "m/b", ttftMs: 5 }));
  const [a, b] = summarize(store.rows());
  assert.equal(a.model, "m/a");
  assert.equal(a.count, 11);
  assert.equal(a.errors, 1);
  assert.equal(a.cancels, 2);
  assert.equal(a.errorRate, 1 / 11);
  for (const p of [50, 95, 99] as const) {
    assert.equal(a.ttftMs[`p${p}`], percentile(ttfts, p));
    assert.equal(a.durationMs[`p${p}`], percentile(durations, p));
  }
  assert.equal(a.ttftHistogram.length, TTFT_BOUNDS_MS.length + 1);
  assert.equal(a.ttftHistogram.reduce((x, y) => x + y, 0), 11);
  // 12 → (10, 20]; 35, 35 → (20, 40]; 1500 → (1000, 2500]
  assert.equal(a.ttftHistogram[TTFT_BOUNDS_MS.indexOf(20)], 1);
  assert.equal(a.ttftHistogram[TTFT_BOUNDS_MS.indexOf(40)], 2);
  assert.equal(a.ttftHistogram[TTFT_BOUNDS_MS.indexOf(2500)], 1);
  assert.equal(b.model, "m/b");
  assert.equal(b.count, 1);
  assert.equal(b.ttftMs.p99, 5);
});

test("a cancel is told apart from an error: llmtrace's mark, or error.type cancelled from older releases", () => {
  const span = (
    attributes: ViewSpan["attributes"],
    code: number,
  ): ViewSpan => ({
    ...decoded()[0],
    attributes,
    status: { code, message: "" },
  });
  assert.equal(
    outcomeOf(span({ "llmtrace.response.cancelled": true }, 0)),
    "cancel",
  );
  assert.equal(outcomeOf(span({ "error.type": "cancelled" }, 2)), "cancel");
  assert.equal(
    outcomeOf(span({ "llmtrace.response.cancelled": false }, 0)),
    "ok",
  );
  assert.equal(outcomeOf(span({ "error.type": "500" }, 2)), "error");
});
