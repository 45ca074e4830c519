/**
 * Resolves where and how spans are exported, from arguments and `OTEL_*`
 * variables, without loading the SDK: a misconfiguration is an error at init,
 * not a silent loss later.
 *
 * @module
 */
import { runtime } from "../runtime/detect.ts";
import { describe } from "../core/validate.ts";

/** The default OTLP/HTTP traces endpoint of a local collector. */
export const DEFAULT_TRACES_ENDPOINT = "http://localhost:4318/v1/traces";

/** The one protocol llmtrace exports with. */
export const SUPPORTED_PROTOCOL = "http/protobuf";

/** The resolved exporter configuration. */
export interface ExporterConfig {
  /** The full traces URL, e.g. `http://localhost:4318/v1/traces`. */
  url: string;
  /** Extra request headers (`OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`). */
  headers: Record<string, string>;
  /** Per-export timeout in milliseconds (`OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT`). */
  timeoutMillis: number;
}

function env(name: string): string | undefined {
  const v = runtime().getEnv(name);
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

/**
 * Checks the configured OTLP protocol: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`,
 * then `OTEL_EXPORTER_OTLP_PROTOCOL`; unset means `http/protobuf`.
 *
 * @throws {Error} naming the value and the supported one for anything else.
 */
export function checkProtocol(): void {
  for (
    const name of [
      "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
      "OTEL_EXPORTER_OTLP_PROTOCOL",
    ]
  ) {
    const value = env(name);
    if (value === undefined) continue;
    if (value === SUPPORTED_PROTOCOL) return;
    let msg = `Unsupported OTLP protocol '${value}' in ${name}: llmtrace ` +
      `exports with '${SUPPORTED_PROTOCOL}' only (sent with fetch, so it runs ` +
      `on every runtime).`;
    if (value === "grpc") {
      msg += ` Set ${name}=${SUPPORTED_PROTOCOL} and point the endpoint at ` +
        `the collector's OTLP/HTTP port (4318), not its gRPC port (4317).`;
    } else {
      msg += ` Set ${name}=${SUPPORTED_PROTOCOL} or unset it.`;
    }
    throw new Error(msg);
  }
}

function validateUrl(value: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(
      `Invalid OTLP traces endpoint '${value}' (from ${source}): expected an ` +
        `absolute http(s) URL such as '${DEFAULT_TRACES_ENDPOINT}'.`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(
      `Invalid OTLP traces endpoint '${value}' (from ${source}): the scheme ` +
        `'${url.protocol}' is not supported; expected http: or https: ` +
        `(OTLP/HTTP, usually port 4318, path /v1/traces).`,
    );
  }
  return url.href;
}

/**
 * Resolves the traces endpoint: the explicit argument wins; else
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is; else `OTEL_EXPORTER_OTLP_ENDPOINT`
 * plus `/v1/traces`; else {@link DEFAULT_TRACES_ENDPOINT}.
 *
 * @throws {Error} naming the value when it is not an absolute http(s) URL.
 */
export function resolveTracesEndpoint(explicit?: string): string {
  if (explicit !== undefined) {
    if (typeof explicit !== "string" || explicit.trim() === "") {
      throw new TypeError(
        `otlpTracesEndpoint must be a non-empty URL string, got ${
          describe(explicit)
        }`,
      );
    }
    return validateUrl(explicit.trim(), "the otlpTracesEndpoint argument");
  }
  const specific = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (specific) {
    return validateUrl(specific, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  }
  const base = env("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (base) {
    const joined = base.endsWith("/")
      ? `${base}v1/traces`
      : `${base}/v1/traces`;
    return validateUrl(joined, "OTEL_EXPORTER_OTLP_ENDPOINT");
  }
  return DEFAULT_TRACES_ENDPOINT;
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

function timeoutFrom(name: string): number | undefined {
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

/**
 * The whole exporter configuration for an endpoint (see
 * {@link resolveTracesEndpoint}), with headers and timeout from the environment.
 */
export function resolveExporterConfig(
  explicitEndpoint?: string,
): ExporterConfig {
  checkProtocol();
  return {
    url: resolveTracesEndpoint(explicitEndpoint),
    headers: {
      ...parseHeaderList(env("OTEL_EXPORTER_OTLP_HEADERS")),
      ...parseHeaderList(env("OTEL_EXPORTER_OTLP_TRACES_HEADERS")),
    },
    timeoutMillis: timeoutFrom("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") ??
      timeoutFrom("OTEL_EXPORTER_OTLP_TIMEOUT") ?? 10_000,
  };
}
