/**
 * The pieces of one metrics pipeline: its state, the resource, building the
 * `MeterProvider` with the readers wanted, installing the measurement sink.
 * Used by `provider.ts`; imports the SDK as types only.
 *
 * @module
 */
import type { Meter } from "@opentelemetry/api";
import { setMeasurementSink } from "../core/measurement_sink.ts";
import type { SemconvMode } from "../core/attributes.ts";
import { LLMTRACE_SCOPE } from "../core/tracer.ts";
import { runtime } from "../runtime/detect.ts";
import type { MetricsConfig } from "./config.ts";

/** The lazily loaded SDK module. */
export type MetricsSdk = typeof import("./sdk_bundle.ts");
export type Recording = typeof import("./recording_bundle.ts");
export type Provider = InstanceType<MetricsSdk["MeterProvider"]>;
export type PullReader = InstanceType<MetricsSdk["PullMetricReader"]>;
import type { Resource } from "../sdk/resource.ts";
export type { Resource };

/** llmtrace's instrumentation scope (the one the spans use). */
export const SCOPE = LLMTRACE_SCOPE;

/** One running pipeline. */
export interface State {
  config: MetricsConfig;
  recording: Recording;
  mode: SemconvMode;
  defaultProvider: string;
  /** The runtime whose built-in OpenTelemetry records, if any (Deno's). */
  native?: string;
  sdk?: MetricsSdk;
  resource?: Resource;
  provider?: Provider;
  pull?: PullReader;
  /** Providers being shut down after a rebuild; flush and shutdown await them. */
  retiring: Set<Promise<unknown>>;
  removeExitHook: () => void;
}

/** Warns that an operation could not export. */
export function warn(op: string, s: State, e: unknown): void {
  const err = Array.isArray(e) ? e[0] : e;
  console.warn(
    `llmtrace: ${op}: metrics could not be exported to ${s.config.url}: ${
      err instanceof Error ? err.message : String(err)
    }`,
  );
}

/** Creates the instruments on `meter` and installs the sink recording into them. */
export function install(s: State, meter: Meter): void {
  const instruments = s.recording.createInstruments(meter, s.mode);
  const latest = s.mode === "latest";
  setMeasurementSink(
    s.recording.createRecorder(instruments, {
      defaultProvider: s.defaultProvider,
      latest,
    }),
    latest,
  );
}

/** (Re)builds the provider with the readers wanted; none means no sink. */
export function build(s: State, withPull: boolean): void {
  const sdk = s.sdk!;
  const readers = [];
  if (s.config.otlp) {
    const { config } = s;
    readers.push(
      runtime().withSafeProcessEnv(() =>
        new sdk.PeriodicExportingMetricReader({
          exporter: new sdk.OtlpFetchMetricExporter({
            url: config.url,
            headers: config.headers,
            timeoutMillis: config.timeoutMillis,
            temporality: config.temporality,
          }),
          exportIntervalMillis: config.intervalMillis,
          exportTimeoutMillis: config.exportTimeoutMillis,
        })
      ),
    );
  }
  if (s.config.console) {
    const { config } = s;
    readers.push(
      new sdk.PeriodicExportingMetricReader({
        exporter: new sdk.ConsoleMetricExporter(),
        exportIntervalMillis: config.intervalMillis,
        exportTimeoutMillis: config.exportTimeoutMillis,
      }),
    );
  }
  s.pull = withPull ? new sdk.PullMetricReader() : undefined;
  if (s.pull) readers.push(s.pull);
  const old = s.provider;
  s.provider = readers.length
    ? new sdk.MeterProvider({ resource: s.resource, readers })
    : undefined;
  if (s.provider) install(s, s.provider.getMeter(SCOPE.name, SCOPE.version));
  else setMeasurementSink(undefined);
  if (old) {
    // Its final export carries what it recorded before the swap.
    const p = old.shutdown().catch((e) => warn("rebuild", s, e));
    s.retiring.add(p);
    p.finally(() => s.retiring.delete(p));
  }
}
