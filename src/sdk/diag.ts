/**
 * Where the SDK's diagnostics go (export failures, "Dropped N spans"), and
 * llmtrace's own warnings about exports.
 *
 * @module
 */
import type { DiagLogger } from "../core/types.ts";
import type { OtelApi } from "../core/api.ts";

const LOG_LEVELS = [
  "NONE",
  "ERROR",
  "WARN",
  "INFO",
  "DEBUG",
  "VERBOSE",
  "ALL",
] as const;

/** The SDK's diagnostics on the console, marked as llmtrace's. */
export const consoleDiagLogger: DiagLogger = {
  error: (msg, ...args) => console.error("llmtrace (otel):", msg, ...args),
  warn: (msg, ...args) => console.warn("llmtrace (otel):", msg, ...args),
  info: (msg, ...args) => console.info("llmtrace (otel):", msg, ...args),
  debug: (msg, ...args) => console.debug("llmtrace (otel):", msg, ...args),
  verbose: (msg, ...args) => console.debug("llmtrace (otel):", msg, ...args),
};

/**
 * The diag level named by `OTEL_LOG_LEVEL` (case-insensitive), WARN when
 * unset or unknown.
 *
 * @param api The loaded API (for its `DiagLogLevel` values).
 * @param value The variable's value.
 */
export function diagLevel(api: OtelApi, value: string | undefined): number {
  const name = value?.trim().toUpperCase();
  const known = LOG_LEVELS.find((l) => l === name);
  return known ? api.DiagLogLevel[known] : api.DiagLogLevel.WARN;
}

/** One console line for spans that `op` could not export. */
export function warnExportFailure(
  op: string,
  endpoint: string,
  e: unknown,
): void {
  const err = Array.isArray(e) ? e[0] : e;
  console.warn(
    `llmtrace: ${op}: spans could not be exported to ${endpoint}: ${
      err instanceof Error ? err.message : String(err)
    }`,
  );
}
