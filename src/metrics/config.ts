/**
 * Where and how metrics are exported, from arguments and the `OTEL_*` values
 * `core/env_config.ts` reads, without loading the SDK: a misconfiguration is an error (or a warning that
 * names the value) at start, not a silent loss later.
 *
 * @module
 */
import { runtime } from "../runtime/detect.ts";
import { describe } from "../core/validate.ts";
import {
  DEFAULT_METRICS_ENDPOINT,
  resolveOtlpConfig,
} from "../sdk/exporter_config.ts";
import {
  metricExportIntervalEnv,
  metricExportTimeoutEnv,
  metricsExporters,
  temporalityEnv,
  type TemporalityPreference,
} from "../core/env_config.ts";

/** The longest delay timers accept (2^31 − 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 0x7fffffff;

/** The resolved metrics configuration. */
export interface MetricsConfig {
  /** Push over OTLP (`OTEL_METRICS_EXPORTER` lists `otlp`, the default). */
  otlp: boolean;
  /** `OTEL_METRICS_EXPORTER` lists `prometheus`: `metricsHandler()` serves them. */
  prometheus: boolean;
  /**
   * Print with the SDK's `ConsoleMetricExporter` (`OTEL_METRICS_EXPORTER`
   * lists `console`, or the OTLP protocol is `console`).
   */
  console: boolean;
  /** The full metrics URL, e.g. `http://localhost:4318/v1/metrics`. */
  url: string;
  /** Extra request headers (`OTEL_EXPORTER_OTLP_[METRICS_]HEADERS`). */
  headers: Record<string, string>;
  /** Per-request timeout, ms (`OTEL_EXPORTER_OTLP_[METRICS_]TIMEOUT`). */
  timeoutMillis: number;
  /** Time between exports, ms (`OTEL_METRIC_EXPORT_INTERVAL`; on workerd, 2^31 − 1 by default). */
  intervalMillis: number;
  /** Bound of one export, ms (`OTEL_METRIC_EXPORT_TIMEOUT`), at most the interval. */
  exportTimeoutMillis: number;
  /** Aggregation temporality of the OTLP export. */
  temporality: TemporalityPreference;
}

/** Explicit settings that win over the environment. */
export interface MetricsConfigInput {
  /** The full OTLP metrics URL. */
  endpoint?: string;
  /** Time between exports, ms. */
  exportIntervalMillis?: number;
}

/**
 * The whole metrics configuration from `input` and the environment.
 *
 * @param input Explicit settings; see {@link MetricsConfigInput}.
 * @returns The configuration.
 * @throws {Error} for an exporter other than `otlp`/`prometheus`/`none`, a
 * protocol other than `http/protobuf`, or an endpoint that is not a URL.
 */
export function resolveMetricsConfig(
  input: MetricsConfigInput = {},
): MetricsConfig {
  const wanted = metricsExporters();
  const { prometheus } = wanted;
  // The endpoint only matters (and is only checked) when pushing; a
  // `console` protocol prints what would have been pushed.
  const otlpConfig = wanted.otlp
    ? resolveOtlpConfig("metrics", input.endpoint)
    : undefined;
  const otlp = otlpConfig?.otlp === true;
  const console = wanted.console || otlpConfig?.console === true;
  // Without background timers exports go through ctx.waitUntil(flushMetrics()),
  // and the timer practically never fires.
  let intervalMillis = metricExportIntervalEnv() ??
    (runtime().backgroundTimers ? 60_000 : MAX_TIMER_MS);
  const explicit = input.exportIntervalMillis;
  if (explicit !== undefined) {
    if (
      typeof explicit !== "number" || !(explicit > 0) || explicit === Infinity
    ) {
      throw new TypeError(
        `exportIntervalMillis must be a positive number, got ${
          describe(explicit)
        }`,
      );
    }
    intervalMillis = explicit;
  }
  const exportTimeoutMillis = Math.min(
    metricExportTimeoutEnv() ?? 30_000,
    intervalMillis,
  );
  return {
    otlp,
    prometheus,
    console,
    url: otlpConfig?.url ?? DEFAULT_METRICS_ENDPOINT,
    headers: otlpConfig?.headers ?? {},
    timeoutMillis: otlpConfig?.timeoutMillis ?? 10_000,
    intervalMillis,
    exportTimeoutMillis,
    temporality: temporalityEnv(),
  };
}
