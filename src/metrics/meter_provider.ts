/**
 * The metrics pipeline's life: `startMetrics`, `flushMetrics`,
 * `shutdownMetrics`, and the lazy loading of the metrics SDK. While metrics
 * run, the measurement sink of `core/measurement_sink.ts` records into the
 * instruments; otherwise it is `undefined` and the request paths pay nothing.
 *
 * @module
 */
import type { Attributes } from "../core/types.ts";
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics";
import {
  setMeasurementFlush,
  setMeasurementSink,
} from "../core/measurement_sink.ts";
import { loadOtelApi } from "../core/api.ts";
import { loadWireReaders } from "../genai/wire.ts";
import { buildResource } from "../sdk/resource.ts";
import { semconvMode } from "../core/attributes.ts";
import { describe } from "../core/validate.ts";
import { nativeTelemetry, runtime } from "../runtime/detect.ts";
import { sdkDisabled } from "../core/env_config.ts";

import {
  build,
  install,
  type MetricsSdk,
  SCOPE,
  type State,
  warn,
} from "./pipeline.ts";

/**
 * Options of {@link startMetrics}.
 *
 * @example
 * ```ts
 * import { type StartMetricsOptions, startMetrics } from "@llmtrace/otel";
 *
 * const options: StartMetricsOptions = { serviceName: "my.router", prometheus: true };
 * await startMetrics(options);
 * ```
 */
export interface StartMetricsOptions {
  /** `service.name` unless `OTEL_SERVICE_NAME` says otherwise. @default "llmtrace" */
  serviceName?: string;
  /** More resource attributes. */
  resourceAttributes?: Attributes;
  /** The full OTLP metrics URL; else the `OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT` rules. */
  endpoint?: string;
  /** Time between OTLP exports, ms; else `OTEL_METRIC_EXPORT_INTERVAL`, else 60000. */
  exportIntervalMillis?: number;
  /** `gen_ai.provider.name` for measurements that name none (the attribute is required). @default "unknown" */
  providerName?: string;
  /**
   * Attach the reader `metricsHandler()` scrapes now. It is attached anyway
   * when `OTEL_METRICS_EXPORTER` lists `prometheus` or a `metricsHandler()`
   * exists; a handler made later attaches it then.
   * @default false
   */
  prometheus?: boolean;
  /** Flush and shut down on normal process exit. @default true */
  flushOnExit?: boolean;
}

let state: State | undefined;
let starting: Promise<void> | undefined;
let pullRequested = false;

async function start(options: StartMetricsOptions): Promise<void> {
  // Measured requests of every wire API read their answers.
  await loadWireReaders();
  const recording = await import("./recording_bundle.ts");
  const config = recording.resolveMetricsConfig({
    endpoint: options.endpoint,
    exportIntervalMillis: options.exportIntervalMillis,
  });
  const s: State = {
    config,
    recording,
    mode: semconvMode(),
    defaultProvider: options.providerName || "unknown",
    retiring: new Set(),
    removeExitHook: () => {},
  };
  const native = nativeTelemetry();
  if (native) {
    // The runtime exports metrics itself (Deno's OTEL_DENO=true owns the
    // global API): record through its meter, start no exporter.
    const api = await loadOtelApi();
    s.native = native;
    install(s, api.metrics.getMeter(SCOPE.name, SCOPE.version));
    state = s;
    setMeasurementFlush(flushMetrics);
    return;
  }
  let sdk: MetricsSdk;
  try {
    sdk = await import("./sdk_bundle.ts");
  } catch (e) {
    throw new Error(
      "OpenTelemetry metrics are not available: loading the metrics SDK " +
        "failed. Original error: " +
        (e instanceof Error ? e.message : String(e)),
      { cause: e },
    );
  }
  // The request paths rely on the API being loaded whenever a sink is set.
  await loadOtelApi();
  s.sdk = sdk;
  s.resource = buildResource(
    sdk,
    options.serviceName ?? "llmtrace",
    options.resourceAttributes,
  );
  build(s, options.prometheus === true || config.prometheus || pullRequested);
  if (options.flushOnExit !== false) {
    s.removeExitHook = runtime().onExit(() => shutdownMetrics());
  }
  state = s;
  setMeasurementFlush(flushMetrics);
}

/**
 * Starts recording llmtrace's GenAI metrics (see the README's instrument
 * table): an OpenTelemetry `MeterProvider` with a periodic OTLP
 * http/protobuf exporter (sent with `fetch`) and, when wanted, the reader
 * `metricsHandler()` serves. The metrics SDK is loaded here, lazily.
 *
 * Configuration: `OTEL_METRICS_EXPORTER` (`otlp`, the default; `prometheus`;
 * `console`; `none`), `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, else
 * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics`, else
 * `http://localhost:4318/v1/metrics`; `OTEL_EXPORTER_OTLP_[METRICS_]HEADERS`,
 * `…TIMEOUT`, `…PROTOCOL` (`http/protobuf`, or `console`: printed with the
 * SDK's `ConsoleMetricExporter`);
 * `OTEL_METRIC_EXPORT_INTERVAL` (ms, default 60000),
 * `OTEL_METRIC_EXPORT_TIMEOUT`,
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`;
 * `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental` for the latest
 * client metric names. `OTEL_SDK_DISABLED=true` starts nothing. Under Deno's
 * built-in OpenTelemetry (`OTEL_DENO=true`) the instruments are created on
 * Deno's meter and Deno exports them.
 *
 * A second call while metrics run does nothing.
 *
 * @param options See {@link StartMetricsOptions}.
 * @throws {Error} naming the variable and value for an unsupported exporter or
 * protocol or a malformed endpoint; when the SDK cannot be loaded.
 *
 * @example
 * ```ts
 * import { shutdownMetrics, startMetrics } from "@llmtrace/otel";
 *
 * await startMetrics({ serviceName: "my.router", endpoint: "http://127.0.0.1:4318/v1/metrics" });
 * await shutdownMetrics();
 * ```
 */
export async function startMetrics(
  options: StartMetricsOptions = {},
): Promise<void> {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `startMetrics options must be an object, got ${describe(options)}`,
    );
  }
  if (state || sdkDisabled()) return;
  if (starting) return await starting;
  starting = start(options);
  try {
    await starting;
  } finally {
    starting = undefined;
  }
}

/**
 * Exports what the instruments hold now (and awaits any export under way).
 * Never rejects: a failed export is a warning. On workerd, pass it to
 * `ctx.waitUntil`. A no-op while metrics are off.
 *
 * @example
 * ```ts
 * import { flushMetrics } from "@llmtrace/otel";
 *
 * await flushMetrics();
 * ```
 */
export async function flushMetrics(): Promise<void> {
  const s = state;
  if (!s) return;
  try {
    await Promise.all([s.provider?.forceFlush(), ...s.retiring]);
  } catch (e) {
    warn("flushMetrics", s, e);
  }
}

/**
 * Stops recording, exports what is left and releases the pipeline; a later
 * {@link startMetrics} starts afresh. Idempotent; never rejects.
 *
 * @example
 * ```ts
 * import { shutdownMetrics, startMetrics } from "@llmtrace/otel";
 *
 * await startMetrics();
 * await shutdownMetrics();
 * ```
 */
export async function shutdownMetrics(): Promise<void> {
  if (starting) await starting.catch(() => {});
  const s = state;
  if (!s) return;
  state = undefined;
  // A handler made before this scrapes again after a restart: its first
  // scrape attaches the reader then.
  pullRequested = false;
  setMeasurementSink(undefined);
  setMeasurementFlush(undefined);
  s.removeExitHook();
  try {
    await Promise.all([s.provider?.shutdown(), ...s.retiring]);
  } catch (e) {
    warn("shutdownMetrics", s, e);
  }
}

/**
 * Whether {@link startMetrics} has set metrics up (and no
 * {@link shutdownMetrics} has ended them).
 *
 * @returns `true` while metrics run.
 *
 * @example
 * ```ts
 * import { isMetricsEnabled } from "@llmtrace/otel";
 *
 * console.log(isMetricsEnabled()); // false before startMetrics
 * ```
 */
export function isMetricsEnabled(): boolean {
  return state !== undefined;
}

/** What a scrape found. @internal */
export type Scrape =
  | { ok: true; metrics: ResourceMetrics; sdk: MetricsSdk }
  | { ok: false; reason: string };

/**
 * Asks for the pull reader: now when metrics run without it (the provider
 * is rebuilt once), else when they start. @internal
 */
export function _requestPull(): void {
  pullRequested = true;
  const s = state;
  if (s && s.sdk && !s.pull) build(s, true);
}

/** Collects for one scrape. @internal */
export async function _scrape(): Promise<Scrape> {
  const s = state;
  if (!s) {
    return {
      ok: false,
      reason: "llmtrace: metrics are not running: call initTracer() or " +
        "startMetrics() first (OTEL_SDK_DISABLED=true keeps them off).",
    };
  }
  if (s.native) {
    return {
      ok: false,
      reason:
        `llmtrace: metrics are recorded through ${
          s.native === "deno" ? "Deno" : s.native
        }'s built-in ` +
        `OpenTelemetry, which exports them itself and offers no way to read ` +
        `them in this process; unset OTEL_DENO to scrape them here.`,
    };
  }
  if (!s.pull) _requestPull();
  const { resourceMetrics, errors } = await s.pull!.collect();
  if (errors.length) {
    console.warn("llmtrace: metricsHandler: collection errors:", ...errors);
  }
  return { ok: true, metrics: resourceMetrics, sdk: s.sdk! };
}
