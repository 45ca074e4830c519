/**
 * vLLM's `log_tracing_disabled_warning`.
 *
 * @module
 */

let warnedDisabled = false;

/**
 * Warns once per process that a request carried trace context while tracing
 * is off (vLLM's `log_tracing_disabled_warning`).
 *
 * @example
 * ```ts
 * import { containsTraceHeaders, logTracingDisabledWarning } from "@llmtrace/otel";
 *
 * const req = new Request("http://x/", { headers: { tracestate: "a=1" } });
 * if (containsTraceHeaders(req)) logTracingDisabledWarning();
 * ```
 */
export function logTracingDisabledWarning(): void {
  if (warnedDisabled) return;
  warnedDisabled = true;
  console.warn(
    "llmtrace: received a request with trace context but tracing is disabled",
  );
}
