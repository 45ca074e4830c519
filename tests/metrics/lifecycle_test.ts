// The pipeline's life: nothing installed while off, lazy SDK, idempotent
// start, the export interval honoured, flush and shutdown delivering (and
// never rejecting), and the exit hook exporting when a program just ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  flushMetrics,
  isMetricsEnabled,
  shutdownMetrics,
  startMetrics,
} from "../../mod.ts";
import { measurementSink } from "../../src/core/measurement_sink.ts";
import {
  captureWarnings,
  runFixture,
  sleep,
  withEnv,
} from "../support/helpers.ts";
import { CLEAN_METRICS_ENV, report, withMetrics } from "../support/metrics.ts";
import { startOtlpMetricsReceiver } from "../support/otlp_metrics.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("metrics off: no sink, and mod.ts reaches the metrics SDK module only dynamically", () => {
  assert.equal(isMetricsEnabled(), false);
  assert.equal(measurementSink, undefined);
  const STATIC =
    /^\s*(?:import|export)\s+(?!type\b)[^;]*?\s*from\s*"(\.[^"]+)"/gm;
  const seen = new Set<string>();
  const todo = [resolve(root, "mod.ts")];
  while (todo.length && seen.size < 500) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const m of readFileSync(f, "utf8").matchAll(STATIC)) {
      todo.push(resolve(dirname(f), m[1]));
    }
  }
  const rel = [...seen].map((f) => f.slice(root.length));
  assert.ok(rel.includes("src/metrics/meter_provider.ts"), rel.join(" "));
  for (
    const lazy of ["sdk_bundle", "otlp_exporter", "prometheus", "pull_reader"]
  ) {
    assert.ok(
      !rel.includes(`src/metrics/${lazy}.ts`),
      `${lazy}.ts is loaded statically`,
    );
  }
});

test("OTEL_SDK_DISABLED=true starts nothing", async () => {
  await withEnv(
    { ...CLEAN_METRICS_ENV, OTEL_SDK_DISABLED: "true" },
    async () => {
      await startMetrics({ flushOnExit: false });
      assert.equal(isMetricsEnabled(), false);
      assert.equal(measurementSink, undefined);
    },
  );
});

test("start is idempotent (also when concurrent); shutdown removes the sink; a restart starts afresh", async () => {
  await withMetrics({}, {}, async (rx) => {
    const sink = measurementSink;
    assert.equal(typeof sink, "function");
    await Promise.all([
      startMetrics(),
      startMetrics({ endpoint: "http://127.0.0.1:1/v1/metrics" }),
    ]);
    assert.equal(measurementSink, sink, "the same pipeline");
    report({ kind: "server", durationS: 0.1, operation: "chat" });
    await shutdownMetrics();
    assert.equal(measurementSink, undefined);
    assert.equal(isMetricsEnabled(), false);
    await shutdownMetrics(); // idempotent
    assert.equal(rx.exports().length, 1, "shutdown exported what was left");
    await startMetrics({ endpoint: rx.url, flushOnExit: false });
    report({ kind: "server", durationS: 0.3, operation: "chat" });
    await flushMetrics();
    const last = rx.latest("gen_ai.server.request.duration")!.points[0];
    assert.equal(last.count, 1, "a new provider: counting starts again");
    assert.equal(last.sum, 0.3);
  });
});

test("OTEL_METRIC_EXPORT_INTERVAL is honoured; the default does not export within a second", async () => {
  await withMetrics({ OTEL_METRIC_EXPORT_INTERVAL: "150" }, {}, async (rx) => {
    const t0 = Date.now();
    report({ kind: "server", durationS: 0.1, operation: "chat" });
    const exports = await rx.waitFor((e) => e.length >= 3, 5000);
    const gaps = exports.slice(1, 3).map((e, i) => e.at - exports[i].at);
    for (const g of gaps) assert.ok(g >= 100, `gap ${g} ms, interval 150 ms`);
    assert.ok(exports[0].at - t0 >= 100, "the first export waits an interval");
  });
  await withMetrics({}, {}, async (rx) => {
    report({ kind: "server", durationS: 0.1, operation: "chat" });
    await sleep(1000);
    assert.equal(rx.requests().length, 0, "60 s by default");
  });
});

test("flush and shutdown never reject when the collector is down or refuses; they warn naming the endpoint", async () => {
  const refusing = await startOtlpMetricsReceiver({ status: () => 400 });
  try {
    for (const endpoint of ["http://127.0.0.1:9/v1/metrics", refusing.url]) {
      // A short timeout bounds the exporter's retries.
      await withEnv({
        ...CLEAN_METRICS_ENV,
        OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: "300",
      }, async () => {
        await startMetrics({ endpoint, flushOnExit: false });
        report({ kind: "server", durationS: 0.1, operation: "chat" });
        const { warnings } = await captureWarnings(async () => {
          await flushMetrics();
          await shutdownMetrics();
        });
        assert.ok(
          warnings.some((w) =>
            w.includes(`metrics could not be exported to ${endpoint}`)
          ),
          JSON.stringify(warnings),
        );
      });
    }
    assert.ok(refusing.requests().length >= 1);
  } finally {
    await shutdownMetrics();
    await refusing.close();
  }
});

test("a program that just ends exports its metrics on exit, and is not kept alive by the export timer", async () => {
  const rx = await startOtlpMetricsReceiver();
  try {
    const r = await runFixture("metrics_exit.ts", {
      ...CLEAN_METRICS_ENV,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: rx.url,
    }, 20_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"recorded":true/);
    assert.ok(r.ms < 10_000, `exited after ${r.ms} ms`);
    const m = rx.latest("gen_ai.server.request.duration");
    assert.equal(m?.points[0].sum, 0.25, JSON.stringify(rx.requests()));
    assert.equal(m?.resource["service.name"], "test.metrics_exit");
  } finally {
    await rx.close();
  }
});
