/**
 * Where and how metrics are exported, from arguments and `OTEL_*` variables,
 * without loading the SDK: a misconfiguration is an error (or a warning that
 * names the value) at start, not a silent loss later.
 *
 * @module
 */
import { runtime } from "../runtime/detect.ts";
import { describe } from "../core/validate.ts";
import { parseHeaderList } from "../sdk/config.ts";

/** The default OTLP/HTTP metrics endpoint of a local collector. */
export const DEFAULT_METRICS_ENDPOINT = "http://localhost:4318/v1/metrics";

const PROTOCOL = "http/protobuf";
/** The longest delay timers accept (2^31 − 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 0x7fffffff;

/**
 * How the OTLP metric exporter aggregates over time
 * (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
 *
 * @example
 * ```ts
 * import type { TemporalityPreference } from "./config.ts";
 *
 * const t: TemporalityPreference = "delta";
 * console.log(t);
 * ```
 */
export type TemporalityPreference = "cumulative" | "delta" | "lowmemory";

/**
 * The resolved metrics configuration.
 *
 * @example
 * ```ts
 * import { type MetricsConfig, resolveMetricsConfig } from "./config.ts";
 *
 * const c: MetricsConfig = resolveMetricsConfig({ endpoint: "http://127.0.0.1:4318/v1/metrics" });
 * console.log(c.url, c.intervalMillis);
 * ```
 */
export interface MetricsConfig {
  /** Push over OTLP (`OTEL_METRICS_EXPORTER` lists `otlp`, the default). */
  otlp: boolean;
  /** `OTEL_METRICS_EXPORTER` lists `prometheus`: `metricsHandler()` serves them. */
  prometheus: boolean;
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

/**
 * Explicit settings that win over the environment.
 *
 * @example
 * ```ts
 * import type { MetricsConfigInput } from "./config.ts";
 *
 * const i: MetricsConfigInput = { exportIntervalMillis: 5000 };
 * console.log(i);
 * ```
 */
export interface MetricsConfigInput {
  /** The full OTLP metrics URL. */
  endpoint?: string;
  /** Time between exports, ms. */
  exportIntervalMillis?: number;
}

function env(name: string): string | undefined {
  const v = runtime().getEnv(name);
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

function exporters(): { otlp: boolean; prometheus: boolean } {
  const raw = env("OTEL_METRICS_EXPORTER");
  if (raw === undefined) return { otlp: true, prometheus: false };
  const names = raw.split(",").map((s) => s.trim().toLowerCase()).filter(
    Boolean,
  );
  for (const n of names) {
    if (n !== "otlp" && n !== "prometheus" && n !== "none") {
      throw new Error(
        `Unsupported metrics exporter '${n}' in OTEL_METRICS_EXPORTER='${raw}': ` +
          `llmtrace supports 'otlp' (OTLP http/protobuf, the default), ` +
          `'prometheus' (served by metricsHandler()) and 'none'.`,
      );
    }
  }
  if (names.includes("none")) return { otlp: false, prometheus: false };
  return {
    otlp: names.includes("otlp"),
    prometheus: names.includes("prometheus"),
  };
}

function checkProtocol(): void {
  for (
    const name of [
      "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
      "OTEL_EXPORTER_OTLP_PROTOCOL",
    ]
  ) {
    const value = env(name);
    if (value === undefined) continue;
    if (value === PROTOCOL) return;
    throw new Error(
      `Unsupported OTLP protocol '${value}' in ${name}: llmtrace exports ` +
        `metrics with '${PROTOCOL}' only (sent with fetch, so it runs on every ` +
        `runtime). Set ${name}=${PROTOCOL}` +
        (value === "grpc"
          ? ` and point the endpoint at the collector's OTLP/HTTP port (4318), not its gRPC port (4317).`
          : ` or unset it.`),
    );
  }
}

function validateUrl(value: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(
      `Invalid OTLP metrics endpoint '${value}' (from ${source}): expected an ` +
        `absolute http(s) URL such as '${DEFAULT_METRICS_ENDPOINT}'.`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(
      `Invalid OTLP metrics endpoint '${value}' (from ${source}): the scheme ` +
        `'${url.protocol}' is not supported; expected http: or https: ` +
        `(OTLP/HTTP, usually port 4318, path /v1/metrics).`,
    );
  }
  return url.href;
}

/**
 * Resolves the metrics endpoint: the explicit argument; else
 * `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` as is; else
 * `OTEL_EXPORTER_OTLP_ENDPOINT` plus `/v1/metrics`; else
 * {@link DEFAULT_METRICS_ENDPOINT}.
 *
 * @param explicit The endpoint given by the caller.
 * @returns The URL.
 * @throws {Error} naming the value when it is not an absolute http(s) URL.
 *
 * @example
 * ```ts
 * import { resolveMetricsEndpoint } from "./config.ts";
 *
 * console.log(resolveMetricsEndpoint("http://127.0.0.1:4318/v1/metrics"));
 * ```
 */
export function resolveMetricsEndpoint(explicit?: string): string {
  if (explicit !== undefined) {
    if (typeof explicit !== "string" || explicit.trim() === "") {
      throw new TypeError(
        `the metrics endpoint must be a non-empty URL string, got ${
          describe(explicit)
        }`,
      );
    }
    return validateUrl(explicit.trim(), "the endpoint option");
  }
  const specific = env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
  if (specific) {
    return validateUrl(specific, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
  }
  const base = env("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (base) {
    const joined = base.endsWith("/")
      ? `${base}v1/metrics`
      : `${base}/v1/metrics`;
    return validateUrl(joined, "OTEL_EXPORTER_OTLP_ENDPOINT");
  }
  return DEFAULT_METRICS_ENDPOINT;
}

/** A positive number of milliseconds from `name`, else `undefined` (warned). */
function millis(name: string): number | undefined {
  const raw = env(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.warn(
      `llmtrace: ignoring ${name}='${raw}': expected a positive number of milliseconds`,
    );
    return undefined;
  }
  return n;
}

function temporality(): TemporalityPreference {
  const name = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
  const raw = env(name);
  if (raw === undefined) return "cumulative";
  const v = raw.toLowerCase();
  if (v === "cumulative" || v === "delta" || v === "lowmemory") return v;
  console.warn(
    `llmtrace: ignoring ${name}='${raw}': expected 'cumulative', 'delta' or ` +
      `'lowmemory'; using 'cumulative'`,
  );
  return "cumulative";
}

/**
 * The whole metrics configuration from `input` and the environment.
 *
 * @param input Explicit settings; see {@link MetricsConfigInput}.
 * @returns The configuration.
 * @throws {Error} for an exporter other than `otlp`/`prometheus`/`none`, a
 * protocol other than `http/protobuf`, or an endpoint that is not a URL.
 *
 * @example
 * ```ts
 * import { resolveMetricsConfig } from "./config.ts";
 *
 * const { otlp, url } = resolveMetricsConfig();
 * console.log(otlp ? `pushing to ${url}` : "no OTLP push");
 * ```
 */
export function resolveMetricsConfig(
  input: MetricsConfigInput = {},
): MetricsConfig {
  const { otlp, prometheus } = exporters();
  if (otlp) checkProtocol();
  // The endpoint only matters (and is only checked) when pushing.
  const url = otlp
    ? resolveMetricsEndpoint(input.endpoint)
    : DEFAULT_METRICS_ENDPOINT;
  // workerd allows no I/O from a timer outside a request: there, exports go
  // through ctx.waitUntil(flushMetrics()) and the timer practically never fires.
  let intervalMillis = millis("OTEL_METRIC_EXPORT_INTERVAL") ??
    (runtime().name === "workerd" ? MAX_TIMER_MS : 60_000);
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
    millis("OTEL_METRIC_EXPORT_TIMEOUT") ?? 30_000,
    intervalMillis,
  );
  return {
    otlp,
    prometheus,
    url,
    headers: {
      ...parseHeaderList(env("OTEL_EXPORTER_OTLP_HEADERS")),
      ...parseHeaderList(env("OTEL_EXPORTER_OTLP_METRICS_HEADERS")),
    },
    timeoutMillis: millis("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT") ??
      millis("OTEL_EXPORTER_OTLP_TIMEOUT") ?? 10_000,
    intervalMillis,
    exportTimeoutMillis,
    temporality: temporality(),
  };
}
