/**
 * Resolves where and how a signal (traces, metrics) is exported over OTLP,
 * from arguments and `OTEL_*` variables, without loading the SDK: a
 * misconfiguration is an error at init, not a silent loss later. The
 * signal-specific variable wins over the generic one, as the OTLP exporter
 * specification says.
 *
 * @module
 */
import { runtime } from "../runtime/detect.ts";
import { describe } from "../core/validate.ts";

/** The signals llmtrace exports. */
export type Signal = "traces" | "metrics";

/** The default OTLP/HTTP traces endpoint of a local collector. */
export const DEFAULT_TRACES_ENDPOINT = "http://localhost:4318/v1/traces";
/** The default OTLP/HTTP metrics endpoint of a local collector. */
export const DEFAULT_METRICS_ENDPOINT = "http://localhost:4318/v1/metrics";

const DEFAULT_ENDPOINT: Record<Signal, string> = {
  traces: DEFAULT_TRACES_ENDPOINT,
  metrics: DEFAULT_METRICS_ENDPOINT,
};

/** The one protocol llmtrace exports with. */
const SUPPORTED_PROTOCOL = "http/protobuf";

/** The resolved exporter configuration. */
export interface ExporterConfig {
  /** The full URL, e.g. `http://localhost:4318/v1/traces`. */
  url: string;
  /** Extra request headers (`OTEL_EXPORTER_OTLP_[SIGNAL_]HEADERS`). */
  headers: Record<string, string>;
  /** Per-export timeout in milliseconds (`OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT`). */
  timeoutMillis: number;
}

/** An environment variable, trimmed; `undefined` when unset or blank. */
export function envValue(name: string): string | undefined {
  const v = runtime().getEnv(name);
  return v === undefined || v.trim() === "" ? undefined : v.trim();
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
 *
 * @throws {Error} naming the value and the supported one for anything else.
 */
export function checkProtocol(signal: Signal = "traces"): void {
  for (const name of names(signal, "PROTOCOL")) {
    const value = envValue(name);
    if (value === undefined) continue;
    if (value === SUPPORTED_PROTOCOL) return;
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
}

function validateUrl(signal: Signal, value: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(
      `Invalid OTLP ${signal} endpoint '${value}' (from ${source}): expected ` +
        `an absolute http(s) URL such as '${DEFAULT_ENDPOINT[signal]}'.`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(
      `Invalid OTLP ${signal} endpoint '${value}' (from ${source}): the ` +
        `scheme '${url.protocol}' is not supported; expected http: or https: ` +
        `(OTLP/HTTP, usually port 4318, path /v1/${signal}).`,
    );
  }
  return url.href;
}

/** How an explicit endpoint argument is named in errors, per signal. */
const EXPLICIT: Record<Signal, { arg: string; source: string }> = {
  traces: {
    arg: "otlpTracesEndpoint",
    source: "the otlpTracesEndpoint argument",
  },
  metrics: { arg: "the metrics endpoint", source: "the endpoint option" },
};

/**
 * Resolves the endpoint of `signal`: the explicit argument wins; else
 * `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT` as is; else
 * `OTEL_EXPORTER_OTLP_ENDPOINT` plus `/v1/<signal>`; else the local default.
 *
 * @throws {Error} naming the value when it is not an absolute http(s) URL.
 */
function resolveEndpoint(signal: Signal, explicit?: string): string {
  if (explicit !== undefined) {
    if (typeof explicit !== "string" || explicit.trim() === "") {
      throw new TypeError(
        `${EXPLICIT[signal].arg} must be a non-empty URL string, got ${
          describe(explicit)
        }`,
      );
    }
    return validateUrl(signal, explicit.trim(), EXPLICIT[signal].source);
  }
  const [specificName, baseName] = names(signal, "ENDPOINT");
  const specific = envValue(specificName);
  if (specific) return validateUrl(signal, specific, specificName);
  const base = envValue(baseName);
  if (base) {
    const joined = base.endsWith("/")
      ? `${base}v1/${signal}`
      : `${base}/v1/${signal}`;
    return validateUrl(signal, joined, baseName);
  }
  return DEFAULT_ENDPOINT[signal];
}

/** The traces endpoint (see {@link resolveEndpoint}). */
export function resolveTracesEndpoint(explicit?: string): string {
  return resolveEndpoint("traces", explicit);
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

/** A positive number of milliseconds from `name`, else `undefined` (warned). */
export function positiveMillis(name: string): number | undefined {
  const raw = envValue(name);
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

/**
 * The whole OTLP configuration of `signal`: protocol checked, endpoint (see
 * {@link resolveEndpoint}), headers (generic, then the signal's) and timeout
 * (the signal's, then generic, else 10 s).
 */
export function resolveOtlpConfig(
  signal: Signal,
  explicitEndpoint?: string,
): ExporterConfig {
  checkProtocol(signal);
  const [headers, genericHeaders] = names(signal, "HEADERS");
  const [timeout, genericTimeout] = names(signal, "TIMEOUT");
  return {
    url: resolveEndpoint(signal, explicitEndpoint),
    headers: {
      ...parseHeaderList(envValue(genericHeaders)),
      ...parseHeaderList(envValue(headers)),
    },
    timeoutMillis: positiveMillis(timeout) ?? positiveMillis(genericTimeout) ??
      10_000,
  };
}

/** The traces configuration (see {@link resolveOtlpConfig}). */
export function resolveExporterConfig(
  explicitEndpoint?: string,
): ExporterConfig {
  return resolveOtlpConfig("traces", explicitEndpoint);
}
