/**
 * Where a span's parent comes from, without AsyncLocalStorage: the request a
 * handler holds (`contextOf`), the active span if a context manager knows one,
 * or the `traceparent` a parent process left in the environment.
 *
 * @module
 */
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import type { Context } from "./types.ts";
import { runtime } from "./runtime/detect.ts";
import { contextFromTraceparent } from "./propagation.ts";

const requestContexts = new WeakMap<object, Context>();

/**
 * Remembers the context of a request being served (used by `traceHandler`).
 * Held weakly: once the request is gone, so is the entry.
 *
 * @internal
 */
export function _bindRequestContext(req: object, ctx: Context): void {
  requestContexts.set(req, ctx);
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
  return requestContexts.get(req);
}

/**
 * Reads `traceparent`/`TRACEPARENT` and `tracestate`/`TRACESTATE` from the
 * environment, as a parent process leaves them (see `traceEnv`).
 *
 * @returns The remote parent context, or `undefined`.
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
  const active = context.active();
  const sc = trace.getSpan(active)?.spanContext();
  if (sc && trace.isSpanContextValid(sc)) return active;
  return contextFromEnv() ?? ROOT_CONTEXT;
}
