/**
 * Shared setup of the metrics tests: a clean environment, a metrics receiver,
 * `startMetrics` pointed at it, and what to check a histogram against.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  shutdownMetrics,
  startMetrics,
  type StartMetricsOptions,
} from "../../mod.ts";
import {
  type GenAIMeasurement,
  measurementSink,
} from "../../src/core/measurement_sink.ts";
import { CLEAN_ENV, setEnv } from "./helpers.ts";
import {
  type OtlpMetricsReceiver,
  type ReceivedMetric,
  type ReceivedPoint,
  startOtlpMetricsReceiver,
} from "./otlp_metrics.ts";

/** Every variable that changes how metrics are set up, cleared. */
export const CLEAN_METRICS_ENV: Readonly<Record<string, undefined>> = {
  ...CLEAN_ENV,
  OTEL_METRICS_EXPORTER: undefined,
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: undefined,
  OTEL_EXPORTER_OTLP_METRICS_HEADERS: undefined,
  OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: undefined,
  OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: undefined,
  OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: undefined,
  OTEL_METRIC_EXPORT_INTERVAL: undefined,
  OTEL_METRIC_EXPORT_TIMEOUT: undefined,
  OTEL_SEMCONV_STABILITY_OPT_IN: undefined,
  OTEL_DENO: undefined,
};

/** Reports a measurement the way the request paths will. */
export function report(m: GenAIMeasurement): void {
  measurementSink?.(m);
}

/**
 * Runs `fn` with a receiver and metrics exporting to it (interval one
 * minute unless `env`/`options` say otherwise); shuts metrics down, restores
 * the environment and closes the receiver afterwards, also on failure.
 */
export async function withMetrics(
  env: Record<string, string | undefined>,
  options: StartMetricsOptions,
  fn: (rx: OtlpMetricsReceiver) => Promise<void>,
): Promise<void> {
  const rx = await startOtlpMetricsReceiver();
  const restore = setEnv({ ...CLEAN_METRICS_ENV, ...env });
  try {
    await startMetrics({
      endpoint: env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ||
          env.OTEL_EXPORTER_OTLP_ENDPOINT
        ? undefined
        : rx.url,
      flushOnExit: false,
      ...options,
    });
    await fn(rx);
  } finally {
    await shutdownMetrics();
    restore();
    await rx.close();
  }
}

/** OTLP explicit buckets: bucket i holds values in (bounds[i-1], bounds[i]]. */
export function expectedBuckets(bounds: readonly number[], values: number[]) {
  const counts = new Array(bounds.length + 1).fill(0);
  for (const v of values) {
    let i = 0;
    while (i < bounds.length && v > bounds[i]) i++;
    counts[i]++;
  }
  return counts;
}

/** The one point whose attributes are exactly `attrs`. */
export function pointWith(
  m: ReceivedMetric | undefined,
  attrs: Record<string, unknown>,
): ReceivedPoint {
  assert.ok(m, "metric not received");
  const want = JSON.stringify(Object.entries(attrs).sort());
  const found = m.points.filter((p) =>
    JSON.stringify(Object.entries(p.attributes).sort()) === want
  );
  assert.equal(
    found.length,
    1,
    `${m.name}: one point with ${want}; points: ${
      JSON.stringify(m.points.map((p) => p.attributes))
    }`,
  );
  return found[0];
}

/** Asserts a histogram point holds exactly `values`. */
export function assertHistogram(
  p: ReceivedPoint,
  bounds: readonly number[],
  values: number[],
): void {
  assert.deepEqual(p.explicitBounds, [...bounds]);
  assert.equal(p.count, values.length);
  assert.ok(
    Math.abs((p.sum ?? NaN) - values.reduce((a, b) => a + b, 0)) < 1e-9,
    `sum ${p.sum} vs ${values}`,
  );
  assert.deepEqual(p.bucketCounts, expectedBuckets(bounds, values));
  if (values.length) {
    assert.equal(p.min, Math.min(...values), "min");
    assert.equal(p.max, Math.max(...values), "max");
  }
}
