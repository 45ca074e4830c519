/**
 * Where a span's parent comes from, without AsyncLocalStorage: the request a
 * handler holds (`contextOf`), the active span if a context manager knows one,
 * or the `traceparent` a parent process left in the environment.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import type { Context } from "./types.ts";
import { _api } from "./api.ts";
import { runtime } from "../runtime/detect.ts";
import { contextFromTraceparent } from "./propagation.ts";
import { LIGHT_ROOT_CONTEXT } from "./light_context.ts";

/** The span of a served request and its parent; the Context is built on demand. */
interface Binding {
  parent: Context;
  span: Span;
  ctx?: Context;
}

// A symbol-keyed property on the Request itself: it lives exactly as long as
// the request, and costs the garbage collector less than a WeakMap entry per
// request. Objects that refuse new properties fall back to the WeakMap.
const BINDING = Symbol("llmtrace.requestContext");
const fallback = new WeakMap<object, Binding>();

/**
 * Remembers the server span of a request being served (used by
 * `traceHandler`). The request's Context is only built if someone asks.
 *
 * @internal
 */
export function _bindRequestContext(
  req: object,
  parent: Context,
  span: Span,
): void {
  const binding: Binding = { parent, span };
  try {
    (req as Record<symbol, Binding>)[BINDING] = binding;
  } catch {
    fallback.set(req, binding);
  }
}

/**
 * The OpenTelemetry `Context` of a request that `traceHandler` is serving:
 * its server span. Start child spans from the `Request` the handler already
 * holds; this needs no context manager and never mixes concurrent requests.
 *
 * @param req The incoming request, as the handler received it.
 * @returns The request's context, or `undefined` for a request `traceHandler`
 * did not wrap.
 *
 * @example
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { contextOf, traceHandler } from "@llmtrace/otel";
 *
 * const handler = traceHandler(async (req: Request) => {
 *   const span = trace.getTracer("app").startSpan("tokenize", {}, contextOf(req));
 *   span.end();
 *   return new Response("ok");
 * });
 * ```
 */
export function contextOf(req: Request | object): Context | undefined {
  if (req === null || typeof req !== "object") return undefined;
  const b = (req as Record<symbol, Binding | undefined>)[BINDING] ??
    fallback.get(req);
  if (!b) return undefined;
  // A binding exists only while tracing runs, so the API is loaded.
  return b.ctx ??= _api()!.trace.setSpan(b.parent, b.span);
}

/**
 * Reads `traceparent`/`TRACEPARENT` and `tracestate`/`TRACESTATE` from the
 * environment, as a parent process leaves them (see `traceEnv`).
 *
 * @returns The remote parent context, or `undefined` when the environment
 * holds no valid `traceparent`. Works before `@opentelemetry/api` is loaded.
 *
 * @example
 * ```ts
 * import { contextFromEnv } from "@llmtrace/otel";
 *
 * const parent = contextFromEnv(); // set when spawned with traceEnv()
 * ```
 */
export function contextFromEnv(): Context | undefined {
  const rt = runtime();
  const tp = rt.getEnv("traceparent") ?? rt.getEnv("TRACEPARENT");
  if (!tp) return undefined;
  const ts = rt.getEnv("tracestate") ?? rt.getEnv("TRACESTATE");
  return contextFromTraceparent(tp, ts);
}

/**
 * vLLM's `_get_smart_context`: the active context if it holds a valid span
 * (only when a context manager is registered), else the `traceparent` from
 * the environment, else the root context (a new trace).
 *
 * It always returns a Context, also while `@opentelemetry/api` is not
 * loaded (with tracing off llmtrace never loads it): then no span can be
 * active, and the environment's `traceparent` or an empty context is
 * returned, of the API's shape, which works as a parent once spans start.
 *
 * @returns The context to start a span in.
 *
 * @example
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { getSmartContext } from "@llmtrace/otel";
 *
 * trace.getTracer("worker").startSpan("load", {}, getSmartContext()).end();
 * ```
 */
export function getSmartContext(): Context {
  return _api() ? _smartContext() : contextFromEnv() ?? LIGHT_ROOT_CONTEXT;
}

/** {@link getSmartContext} where the API is known to be loaded. @internal */
export function _smartContext(): Context {
  const { context, ROOT_CONTEXT, trace } = _api()!;
  const active = context.active();
  const sc = trace.getSpan(active)?.spanContext();
  if (sc && trace.isSpanContextValid(sc)) return active;
  return contextFromEnv() ?? ROOT_CONTEXT;
}
