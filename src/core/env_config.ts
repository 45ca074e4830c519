/**
 * The one reader of the `OTEL_*` variables llmtrace follows: their names,
 * parsing and checks live here, and the rest of llmtrace is handed typed
 * values. Each setting is read when it is asked for, not at import: `initTracer`,
 * `startMetrics` and the request paths read at the moment they need a value,
 * so a variable set between two calls (tests, a parent that sets up a child)
 * is seen, and a variable a path never uses is never checked or warned about.
 * Memoising, where a value must not be re-read per request, is the caller's.
 *
 * @module
 */
import { runtime } from "../runtime/detect.ts";

/** The signals llmtrace exports. */
export type Signal = "traces" | "metrics";

/**
 * How the OTLP metric exporter aggregates over time
 * (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
 */
export type TemporalityPreference = "cumulative" | "delta" | "lowmemory";

/** The one OTLP protocol llmtrace exports with. */
const SUPPORTED_PROTOCOL = "http/protobuf";

/** A variable, trimmed; `undefined` when unset or blank. */
function env(name: string): string | undefined {
  const v = runtime().getEnv(name)?.trim();
  return v ? v : undefined;
}

/** A variable as set, with its name, for messages that name the source. */
export interface NamedValue {
  /** The variable, e.g. `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`. */
  name: string;
  /** Its trimmed value. */
  value: string;
}

function named(name: string): NamedValue | undefined {
  const value = env(name);
  return value === undefined ? undefined : { name, value };
}

/** A number from `name` that passes `ok`, else `undefined` (warned). */
function numberFrom(
  name: string,
  ok: (n: number) => boolean,
  expected: string,
): number | undefined {
  const raw = env(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (ok(n)) return n;
  console.warn(`llmtrace: ignoring ${name}='${raw}': expected ${expected}`);
  return undefined;
}

const positiveMillis = (name: string) =>
  numberFrom(
    name,
    (n) => Number.isFinite(n) && n > 0,
    "a positive number of milliseconds",
  );

/** `OTEL_SDK_DISABLED=true` (case-insensitive): no tracing, no metrics. */
export function sdkDisabled(): boolean {
  return env("OTEL_SDK_DISABLED")?.toLowerCase() === "true";
}

/** The last bad capture value warned about (a request path reads it often). */
let warnedCapture: string | undefined;

/**
 * `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`, the opt-in the
 * OpenTelemetry GenAI instrumentations honour: `true` or `false`
 * (case-insensitive); unset gives `undefined`, anything else too, with a
 * warning naming the value (once per value).
 */
export function captureContentEnv(): boolean | undefined {
  const name = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";
  const raw = env(name);
  if (raw === undefined) return undefined;
  const v = raw.toLowerCase();
  if (v === "true") return true;
  if (v === "false") return false;
  if (warnedCapture !== raw) {
    warnedCapture = raw;
    console.warn(
      `llmtrace: ignoring ${name}='${raw}': expected 'true' or 'false'; ` +
        `message content is not recorded`,
    );
  }
  return undefined;
}

/** `OTEL_SEMCONV_STABILITY_OPT_IN` as set (untrimmed), or `undefined`. */
export function semconvOptIn(): string | undefined {
  return runtime().getEnv("OTEL_SEMCONV_STABILITY_OPT_IN");
}

/**
 * The attribute value length limit the environment sets:
 * `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else
 * `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`; a value that is not a positive integer
 * is warned about and skipped.
 */
export function attributeValueLengthLimitEnv(): number | undefined {
  const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
  return numberFrom(
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    positiveInt,
    "a positive integer",
  ) ??
    numberFrom(
      "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
      positiveInt,
      "a positive integer",
    );
}

/** `OTEL_LOG_LEVEL` as set (the SDK's diag level names), or `undefined`. */
export function logLevelEnv(): string | undefined {
  return runtime().getEnv("OTEL_LOG_LEVEL");
}

/** What the batch span processor's variables (which the SDK reads) say. */
export interface BatchEnv {
  /** `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` is set: the SDK follows it. */
  exportBatchSizeSet: boolean;
  /** `OTEL_BSP_MAX_QUEUE_SIZE`, else the SDK's default 2048 (`NaN` if not a number). */
  maxQueueSize: number;
}

/** See {@link BatchEnv}. */
export function batchEnv(): BatchEnv {
  return {
    exportBatchSizeSet: env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") !== undefined,
    maxQueueSize: Number(env("OTEL_BSP_MAX_QUEUE_SIZE") || 2048),
  };
}

const wholeFrom = (name: string, min: number) =>
  numberFrom(
    name,
    (n) => Number.isInteger(n) && n >= min,
    min === 0
      ? "a whole number of 0 or more"
      : `a whole number of at least ${min}`,
  );

/**
 * The variables of `initTracer`'s encode-on-end processor, each checked: a
 * malformed one is warned about (naming it and its value) and left out, as
 * the SDK ignores a malformed `OTEL_BSP_*`.
 */
export interface BatchProcessorEnv {
  /** `OTEL_BSP_SCHEDULE_DELAY`, ms. */
  scheduledDelayMillis?: number;
  /** `OTEL_BSP_MAX_QUEUE_SIZE`, spans. */
  maxQueueSize?: number;
  /** `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, spans. */
  maxExportBatchSize?: number;
  /** `OTEL_BSP_EXPORT_TIMEOUT`, ms. */
  exportTimeoutMillis?: number;
  /** `LLMTRACE_BSP_MAX_QUEUE_BYTES`: the encoded bytes the queue holds at most. */
  maxQueueBytes?: number;
}

/** See {@link BatchProcessorEnv}. */
export function batchProcessorEnv(): BatchProcessorEnv {
  return {
    scheduledDelayMillis: wholeFrom("OTEL_BSP_SCHEDULE_DELAY", 0),
    maxQueueSize: wholeFrom("OTEL_BSP_MAX_QUEUE_SIZE", 1),
    maxExportBatchSize: wholeFrom("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1),
    exportTimeoutMillis: wholeFrom("OTEL_BSP_EXPORT_TIMEOUT", 1),
    maxQueueBytes: wholeFrom("LLMTRACE_BSP_MAX_QUEUE_BYTES", 1024),
  };
}

/** The span processors `LLMTRACE_SPAN_PROCESSOR` chooses between. */
export type SpanProcessorKind = "encode" | "sdk";

/**
 * `LLMTRACE_SPAN_PROCESSOR` (case-insensitive): `encode` (spans encoded when
 * they end, the queue holds bytes) or `sdk` (the SDK's `BatchSpanProcessor`).
 * Unset: `undefined`; anything else is warned about, naming the value, and
 * left out.
 */
export function spanProcessorEnv(): SpanProcessorKind | undefined {
  const raw = env("LLMTRACE_SPAN_PROCESSOR");
  if (raw === undefined) return undefined;
  const v = raw.toLowerCase();
  if (v === "encode" || v === "sdk") return v;
  console.warn(
    `llmtrace: ignoring LLMTRACE_SPAN_PROCESSOR='${raw}': expected 'encode' ` +
      `or 'sdk'`,
  );
  return undefined;
}

/** `OTEL_EXPORTER_OTLP_<SIGNAL>_<suffix>`, then `OTEL_EXPORTER_OTLP_<suffix>`. */
function names(signal: Signal, suffix: string): [string, string] {
  return [
    `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_${suffix}`,
    `OTEL_EXPORTER_OTLP_${suffix}`,
  ];
}

/**
 * Checks the configured OTLP protocol of `signal`: the signal's variable,
 * then `OTEL_EXPORTER_OTLP_PROTOCOL`; unset means `http/protobuf`.
 * `console` (which Deno's built-in telemetry accepts) is not an OTLP
 * protocol but a destination: the signal is printed to the console instead.
 *
 * @returns `"otlp"` (http/protobuf) or `"console"`.
 * @throws {Error} naming the value and the supported one for anything else.
 */
export function checkProtocol(signal: Signal = "traces"): "otlp" | "console" {
  for (const name of names(signal, "PROTOCOL")) {
    const value = env(name);
    if (value === undefined) continue;
    if (value === SUPPORTED_PROTOCOL) return "otlp";
    if (value.toLowerCase() === "console") return "console";
    let msg = `Unsupported OTLP protocol '${value}' in ${name}: llmtrace ` +
      `exports ${signal === "metrics" ? "metrics " : ""}with ` +
      `'${SUPPORTED_PROTOCOL}' only (sent with fetch, so it runs on every ` +
      `runtime).`;
    if (value === "grpc") {
      msg += ` Set ${name}=${SUPPORTED_PROTOCOL} and point the endpoint at ` +
        `the collector's OTLP/HTTP port (4318), not its gRPC port (4317).`;
    } else {
      msg += ` Set ${name}=${SUPPORTED_PROTOCOL} or unset it.`;
    }
    throw new Error(msg);
  }
  return "otlp";
}

/** Where spans go: OTLP, the console, both, or neither. */
export interface TracesExporters {
  otlp: boolean;
  console: boolean;
}

/**
 * `OTEL_TRACES_EXPORTER` (a comma-separated list; unset means `otlp`):
 * `otlp`, `console` (the SDK's `ConsoleSpanExporter`) or `none`. Another
 * value (`zipkin`, `jaeger`) is warned about, naming it, and skipped; a list
 * of nothing else falls back to `otlp`.
 */
export function tracesExporters(): TracesExporters {
  const raw = env("OTEL_TRACES_EXPORTER");
  if (raw === undefined) return { otlp: true, console: false };
  const out = { otlp: false, console: false };
  let known = false;
  for (const part of raw.split(",")) {
    const n = part.trim().toLowerCase();
    if (n === "otlp" || n === "console") {
      out[n] = known = true;
    } else if (n === "none") {
      known = true;
    } else if (n) {
      console.warn(
        `llmtrace: ignoring '${n}' in OTEL_TRACES_EXPORTER='${raw}': ` +
          `expected 'otlp', 'console' or 'none'`,
      );
    }
  }
  if (!known) out.otlp = true;
  return out;
}

/**
 * The endpoint variables of `signal` as set, unchecked (the caller checks
 * the URL it uses, so an explicit endpoint makes them irrelevant):
 * `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`.
 */
export function otlpEndpointEnv(
  signal: Signal,
): { specific?: NamedValue; base?: NamedValue } {
  const [specific, base] = names(signal, "ENDPOINT");
  return { specific: named(specific), base: named(base) };
}

/** Parses `k=v,k2=v2` (values URL-encoded), as the OTLP exporter spec says. */
export function parseHeaderList(
  value: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value) return out;
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    let val = part.slice(eq + 1).trim();
    try {
      val = decodeURIComponent(val);
    } catch {
      // keep the raw value when it is not valid percent-encoding
    }
    if (key) out[key] = val;
  }
  return out;
}

/** Headers of `signal`: the generic variable's, then the signal's (winning). */
export function otlpHeadersEnv(signal: Signal): Record<string, string> {
  const [headers, generic] = names(signal, "HEADERS");
  return {
    ...parseHeaderList(env(generic)),
    ...parseHeaderList(env(headers)),
  };
}

/** The export timeout of `signal`, ms: the signal's variable, then the generic one. */
export function otlpTimeoutEnv(signal: Signal): number | undefined {
  const [timeout, generic] = names(signal, "TIMEOUT");
  return positiveMillis(timeout) ?? positiveMillis(generic);
}

/** Whether `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` is set. */
export function metricsEndpointSet(): boolean {
  return env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") !== undefined;
}

/**
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as set (untrimmed), which
 * `initWorkerTracer` inherits from the process that called `initTracer`.
 */
export function inheritedTracesEndpoint(): string | undefined {
  return runtime().getEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
}

/**
 * Writes the traces endpoint for child processes (as vLLM does); returns how
 * to put the previous value back. A no-op where the runtime forbids it.
 */
export function exportEndpointToEnv(url: string): () => void {
  const rt = runtime();
  const name = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
  const previous = rt.getEnv(name);
  if (!rt.setEnv(name, url)) return () => {};
  return () => {
    rt.setEnv(name, previous);
  };
}

/**
 * `OTEL_METRICS_EXPORTER` (a comma-separated list; unset means `otlp`).
 *
 * @throws {Error} naming the value for anything but `otlp`, `prometheus`,
 * `console`, `none`.
 */
export function metricsExporters(): {
  otlp: boolean;
  prometheus: boolean;
  console: boolean;
} {
  const raw = env("OTEL_METRICS_EXPORTER");
  if (raw === undefined) {
    return { otlp: true, prometheus: false, console: false };
  }
  const list = raw.split(",").map((s) => s.trim().toLowerCase()).filter(
    Boolean,
  );
  for (const n of list) {
    if (
      n !== "otlp" && n !== "prometheus" && n !== "console" && n !== "none"
    ) {
      throw new Error(
        `Unsupported metrics exporter '${n}' in OTEL_METRICS_EXPORTER='${raw}': ` +
          `llmtrace supports 'otlp' (OTLP http/protobuf, the default), ` +
          `'prometheus' (served by metricsHandler()), 'console' and 'none'.`,
      );
    }
  }
  if (list.includes("none")) {
    return { otlp: false, prometheus: false, console: false };
  }
  return {
    otlp: list.includes("otlp"),
    prometheus: list.includes("prometheus"),
    console: list.includes("console"),
  };
}

/** `OTEL_METRIC_EXPORT_INTERVAL`, ms (a bad value is warned about and skipped). */
export function metricExportIntervalEnv(): number | undefined {
  return positiveMillis("OTEL_METRIC_EXPORT_INTERVAL");
}

/** `OTEL_METRIC_EXPORT_TIMEOUT`, ms (a bad value is warned about and skipped). */
export function metricExportTimeoutEnv(): number | undefined {
  return positiveMillis("OTEL_METRIC_EXPORT_TIMEOUT");
}

/** `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, else `cumulative` (warned when bad). */
export function temporalityEnv(): TemporalityPreference {
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
