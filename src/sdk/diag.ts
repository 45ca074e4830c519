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

/** How long one diagnostic line stands for the others of its kind. */
export const DIAG_WINDOW_MS = 10_000;

/** One argument, short: an Error as `name: message`, an object as bounded JSON. */
function brief(a: unknown): string {
  if (a instanceof Error) {
    const cause = a.cause instanceof Error ? ` (cause: ${brief(a.cause)})` : "";
    return `${a.name}: ${a.message}${cause}`;
  }
  if (typeof a === "string") return a;
  try {
    const json = JSON.stringify(a);
    const obj = a as { message?: unknown; name?: unknown } | null;
    if (obj && typeof obj.message === "string") {
      return `${
        typeof obj.name === "string" ? obj.name : "Error"
      }: ${obj.message}`;
    }
    return json && json.length > 200 ? json.slice(0, 200) + "…" : String(json);
  } catch {
    return String(a);
  }
}

/** The kind of a message: digits and quoted values folded away. */
function kindOf(line: string): string {
  return line.replace(/\d+/g, "#").replace(/'[^']*'/g, "'…'").slice(0, 80);
}

/**
 * The SDK's diagnostics on the console, marked as llmtrace's, at most one
 * line per {@link DIAG_WINDOW_MS} for errors, warnings and infos: a
 * collector that is down produces an export failure per batch and retry,
 * which would flood the log. The next line after a quiet window says how
 * many were left out, by kind (and how many spans were dropped in all).
 * Debug and verbose output, asked for with `OTEL_LOG_LEVEL`, is not held
 * back.
 */
export function createConsoleDiagLogger(
  windowMs: number = DIAG_WINDOW_MS,
  now: () => number = Date.now,
): DiagLogger & { summary(): string | undefined } {
  let windowStart = -Infinity;
  const held = new Map<string, number>();
  let droppedSpans = 0;
  const summary = (): string | undefined => {
    if (held.size === 0) return undefined;
    const parts = [...held].map(([k, n]) => `${n}× ${k}`);
    if (droppedSpans > 0) parts.push(`${droppedSpans} spans dropped in all`);
    held.clear();
    droppedSpans = 0;
    return `left out since the last line: ${parts.join("; ")}`;
  };
  const emit = (
    write: (...a: unknown[]) => void,
    msg: string,
    args: unknown[],
  ) => {
    const line = [msg, ...args].map(brief).join(" ");
    const dropped = /Dropped (\d+) spans/.exec(line);
    const t = now();
    if (t - windowStart < windowMs) {
      const k = kindOf(line);
      held.set(k, (held.get(k) ?? 0) + 1);
      if (dropped) droppedSpans += Number(dropped[1]);
      return;
    }
    windowStart = t;
    const left = summary();
    write("llmtrace (otel):", left ? `${line} (${left})` : line);
  };
  return {
    error: (msg, ...args) => emit(console.error, msg, args),
    warn: (msg, ...args) => emit(console.warn, msg, args),
    info: (msg, ...args) => emit(console.info, msg, args),
    debug: (msg, ...args) => console.debug("llmtrace (otel):", msg, ...args),
    verbose: (msg, ...args) => console.debug("llmtrace (otel):", msg, ...args),
    summary,
  };
}

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
