/**
 * What `initTracer` (`tracer_provider.ts`) takes beyond vLLM's three arguments,
 * and the small decisions made from them and the environment before a
 * provider is built.
 *
 * @module
 */
import type {
  ContextManager,
  DiagLogger,
  SpanProcessor,
} from "../core/types.ts";
import { describe } from "../core/validate.ts";
import { metricsEndpointSet } from "../core/env_config.ts";

/**
 * Options of {@link initTracer} beyond vLLM's three arguments.
 *
 * @example
 * ```ts
 * import { initTracer, type InitTracerOptions } from "@llmtrace/otel";
 *
 * const options: InitTracerOptions = { contextManager: null, flushOnExit: true };
 * await initTracer("my.server", undefined, undefined, options);
 * ```
 */
export interface InitTracerOptions {
  /**
   * The context manager to register when none is registered yet. `undefined`
   * registers the web SDK's `StackContextManager` (synchronous nesting, no
   * AsyncLocalStorage); `null` registers none. llmtrace never needs one for
   * correctness: its request spans pass context explicitly.
   * @default undefined
   */
  contextManager?: ContextManager | null;
  /**
   * Write the endpoint to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` so child
   * processes inherit it, as vLLM does (skipped where the runtime forbids it).
   * @default true
   */
  exportEndpointToEnv?: boolean;
  /**
   * Flush and shut down on normal process exit (Deno `beforeunload`,
   * Bun/Node `beforeExit`).
   * @default true
   */
  flushOnExit?: boolean;
  /**
   * More span processors after llmtrace's batch exporter, e.g. a second
   * exporter for another collector.
   */
  spanProcessors?: SpanProcessor[];
  /**
   * Where the SDK's diagnostics go (export failures, "Dropped N spans because
   * maxQueueSize reached"): a console logger at `OTEL_LOG_LEVEL` (default
   * WARN) unless given; `null` leaves the global diag logger alone.
   */
  diagLogger?: DiagLogger | null;
}

/** Throws a `TypeError` naming the value unless it is an array of span processors. */
export function checkSpanProcessors(sp: unknown): void {
  if (
    sp !== undefined &&
    (!Array.isArray(sp) || !sp.every((p) => p && typeof p.onEnd === "function"))
  ) {
    throw new TypeError(
      `options.spanProcessors must be an array of SpanProcessor, got ${
        describe(sp)
      }`,
    );
  }
}

/**
 * Where metrics go when `initTracer` was given an explicit traces URL and no
 * metrics endpoint is configured: the same collector (`…/v1/traces` →
 * `…/v1/metrics`). Otherwise the metrics' own `OTEL_*` rules apply.
 */
export function metricsEndpointFor(
  tracesUrl: string | undefined,
): string | undefined {
  if (tracesUrl === undefined) return undefined;
  if (metricsEndpointSet()) return undefined;
  const m = /^(.*)\/v1\/traces\/?$/.exec(tracesUrl.trim());
  return m ? `${m[1]}/v1/metrics` : undefined;
}
