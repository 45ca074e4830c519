/**
 * Resolves where and how a signal (traces, metrics) is exported over OTLP,
 * from arguments and the `OTEL_*` values `core/env_config.ts` reads, without
 * loading the SDK: a
 * misconfiguration is an error at init, not a silent loss later. The
 * signal-specific variable wins over the generic one, as the OTLP exporter
 * specification says.
 *
 * @module
 */
import { describe } from "../core/validate.ts";
import {
  checkProtocol,
  otlpEndpointEnv,
  otlpHeadersEnv,
  otlpTimeoutEnv,
  type Signal,
  tracesExporters,
} from "../core/env_config.ts";

/** The default OTLP/HTTP traces endpoint of a local collector. */
export const DEFAULT_TRACES_ENDPOINT = "http://localhost:4318/v1/traces";
/** The default OTLP/HTTP metrics endpoint of a local collector. */
export const DEFAULT_METRICS_ENDPOINT = "http://localhost:4318/v1/metrics";

const DEFAULT_ENDPOINT: Record<Signal, string> = {
  traces: DEFAULT_TRACES_ENDPOINT,
  metrics: DEFAULT_METRICS_ENDPOINT,
};

/** The resolved exporter configuration. */
export interface ExporterConfig {
  /** The full URL, e.g. `http://localhost:4318/v1/traces`. */
  url: string;
  /** Extra request headers (`OTEL_EXPORTER_OTLP_[SIGNAL_]HEADERS`). */
  headers: Record<string, string>;
  /** Per-export timeout in milliseconds (`OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT`). */
  timeoutMillis: number;
  /** Export over OTLP to `url` (not when the protocol or exporter says otherwise). */
  otlp: boolean;
  /**
   * Print with the SDK's console exporter (`OTEL_EXPORTER_OTLP_[SIGNAL_]PROTOCOL=console`,
   * or `console` in `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER`).
   */
  console: boolean;
}

/** The rest of a configuration that exports nowhere over OTLP. */
const NO_OTLP = { headers: {}, timeoutMillis: 10_000, otlp: false } as const;

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
  const { specific, base } = otlpEndpointEnv(signal);
  if (specific) return validateUrl(signal, specific.value, specific.name);
  if (base) {
    const joined = base.value.endsWith("/")
      ? `${base.value}v1/${signal}`
      : `${base.value}/v1/${signal}`;
    return validateUrl(signal, joined, base.name);
  }
  return DEFAULT_ENDPOINT[signal];
}

/** The traces endpoint (see {@link resolveEndpoint}). */
export function resolveTracesEndpoint(explicit?: string): string {
  return resolveEndpoint("traces", explicit);
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
  // `console` names a destination, not a wire format: the endpoint (even an
  // explicit one) is not used, so it is not checked either.
  if (checkProtocol(signal) === "console") {
    return { ...NO_OTLP, url: "console", console: true };
  }
  return {
    url: resolveEndpoint(signal, explicitEndpoint),
    headers: otlpHeadersEnv(signal),
    timeoutMillis: otlpTimeoutEnv(signal) ?? 10_000,
    otlp: true,
    console: false,
  };
}

/**
 * The traces configuration: `OTEL_TRACES_EXPORTER` picks OTLP (see
 * {@link resolveOtlpConfig}), the console, both or none.
 */
export function resolveExporterConfig(
  explicitEndpoint?: string,
): ExporterConfig {
  const want = tracesExporters();
  const config: ExporterConfig = want.otlp
    ? resolveOtlpConfig("traces", explicitEndpoint)
    : { ...NO_OTLP, url: "none", console: false };
  if (want.console) {
    config.console = true;
    if (!config.otlp) config.url = "console";
  }
  return config;
}
