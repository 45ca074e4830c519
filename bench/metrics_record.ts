// Cost of one measurement through the metrics sink, per kind, with metrics
// off (the call site's `undefined` check) and on (the SDK's Histogram.record
// per instrument, attribute hashing included; no export runs). A micro-
// benchmark for one core, bounded (a few hundred thousand calls per kind):
// `deno run -A bench/metrics_record.ts` or `bun bench/metrics_record.ts`.
// Not part of bench/run.mjs.
import process from "node:process";
import { metricsHandler, shutdownMetrics, startMetrics } from "../mod.ts";
import * as measure from "../src/core/measurement_sink.ts";

const N = Number(process.env.BENCH_METRICS_N ?? 200_000);
const models = ["a", "b", "c", "d"];
type M = measure.GenAIMeasurement;
const kinds: [string, (i: number) => M][] = [
  ["server (3 histograms)", (i) => ({
    kind: "server",
    durationS: 0.2 + (i % 50) / 100,
    ttftS: 0.03,
    outputTokens: 64,
    operation: "chat",
    requestModel: models[i & 3],
    serverAddress: "127.0.0.1",
    serverPort: 8000,
    requestKey: {},
  })],
  ["engine (8 histograms)", (i) => ({
    kind: "engine",
    durationS: 0.2,
    ttftS: 0.03,
    queueS: 0.001,
    prefillS: 0.02,
    decodeS: 0.18,
    inferenceS: 0.2,
    inputTokens: 13,
    outputTokens: 64,
    operation: "chat",
    requestModel: models[i & 3],
    requestKey: {},
  })],
  ["client (4 histograms)", (i) => ({
    kind: "client",
    durationS: 0.2,
    ttftS: 0.03,
    inputTokens: 13,
    outputTokens: 64,
    operation: "chat",
    provider: "vllm",
    requestModel: models[i & 3],
    serverAddress: "127.0.0.1",
    serverPort: 8001,
  })],
];

function nsPer(mk: (i: number) => M): number {
  for (let i = 0; i < N / 10; i++) measure.measurementSink?.(mk(i));
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const sink = measure.measurementSink;
    if (sink) sink(mk(i));
  }
  return (performance.now() - t0) * 1e6 / N;
}

console.log(`metrics off: ${nsPer(kinds[0][1]).toFixed(0)} ns per call site`);
process.env.OTEL_METRICS_EXPORTER = "none"; // no export during the loop
metricsHandler(); // a reader to record for
await startMetrics({ flushOnExit: false });
for (const [label, mk] of kinds) {
  console.log(
    `metrics on, ${label}: ${nsPer(mk).toFixed(0)} ns per measurement`,
  );
}
await shutdownMetrics();
