/**
 * The OpenTelemetry API, loaded on demand. Importing `@opentelemetry/api`
 * costs a runtime that loads it as CommonJS (Deno, Bun) 8–25 ms, which an
 * edge isolate pays on every cold start; with tracing off nothing here loads
 * it. `initTracer`, `isOtelAvailable` and {@link loadOtelApi} do.
 *
 * @module
 */
import type * as Api from "@opentelemetry/api";
import type { SpanStatusCode } from "@opentelemetry/api";
import type { Context, SpanContext, SpanKind } from "./types.ts";
import { SPAN_KEY } from "./light_context.ts";

/**
 * The `@opentelemetry/api` module, as {@link loadOtelApi} resolves it.
 *
 * @example
 * ```ts
 * import { loadOtelApi, type OtelApi } from "@llmtrace/otel";
 *
 * const api: OtelApi = await loadOtelApi();
 * console.log(typeof api.trace.getTracer);
 * ```
 */
export type OtelApi = typeof Api;

let api: OtelApi | undefined;
let loading: Promise<OtelApi> | undefined;

/**
 * Loads `@opentelemetry/api` (once; later calls share the load). llmtrace's
 * own functions load it when they need it (`initTracer`, a wrapper that sees
 * a provider registered by your own SDK); the context helpers work without
 * it. Call this to get the very API module llmtrace uses.
 *
 * @returns The API module (the same instance your own imports of
 * `@opentelemetry/api` get).
 *
 * @example
 * ```ts
 * import { extractTraceContext, loadOtelApi } from "@llmtrace/otel";
 *
 * const { trace } = await loadOtelApi();
 * const ctx = extractTraceContext({
 *   traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
 * });
 * console.log(ctx && trace.getSpanContext(ctx)?.spanId); // "b7ad6b7169203331"
 * ```
 */
export function loadOtelApi(): Promise<OtelApi> {
  return loading ??= import("@opentelemetry/api").then(
    (m) => (api = m),
    (e) => {
      loading = undefined; // a later call may try again
      throw e;
    },
  );
}

/** The API when it has been loaded, else `undefined`. @internal */
export function _api(): OtelApi | undefined {
  return api;
}

// Where every copy of @opentelemetry/api 1.x keeps what was registered
// globally (provider, propagator, context manager).
const REGISTRY = Symbol.for("opentelemetry.js.api.1");

/**
 * Whether some copy of the API has registered a global tracer provider
 * (a user's own SDK) while this module has not loaded the API yet. @internal
 */
export function _foreignProviderRegistered(): boolean {
  const r = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[
    REGISTRY
  ];
  return r?.trace !== undefined;
}

/**
 * The span context a Context holds, read through the key all copies of the
 * API share, so a caller's Context works before this module loads the API.
 * @internal
 */
export function _spanContextOf(ctx: Context): SpanContext | undefined {
  if (api) return api.trace.getSpanContext(ctx);
  const span = ctx.getValue(SPAN_KEY) as
    | { spanContext?: () => SpanContext }
    | undefined;
  return typeof span?.spanContext === "function"
    ? span.spanContext()
    : undefined;
}

/** `SpanKind` values, without loading the API. @internal */
export const KIND = {
  INTERNAL: 0 as SpanKind,
  SERVER: 1 as SpanKind,
  CLIENT: 2 as SpanKind,
} as const;

/** `SpanStatusCode.ERROR`, without loading the API. @internal */
export const STATUS_ERROR = 2 as SpanStatusCode;

/** The API's invalid span context (all-zero ids), without loading it. @internal */
export const INVALID_SPAN_CONTEXT: SpanContext = Object.freeze({
  traceId: "00000000000000000000000000000000",
  spanId: "0000000000000000",
  traceFlags: 0,
});
