/**
 * One normaliser for every shape headers come in, and vLLM's header helpers
 * (`extractTraceContext`, `extractTraceHeaders`, `containsTraceHeaders`).
 *
 * @module
 */
import type { Context } from "./types.ts";
import { TRACE_HEADERS } from "./attributes.ts";
import { contextFromTraceparent } from "./propagation.ts";

/**
 * Anything llmtrace accepts as headers: a `Headers`, a `Request` (or any
 * object with a `headers: Headers`), a plain object with case-insensitive keys
 * (values may be arrays, as in `node:http`), a `Map`, an iterable of
 * `[name, value]` pairs, or `null`/`undefined`.
 *
 * @example
 * ```ts
 * import { extractTraceHeaders, type HeadersLike } from "@llmtrace/otel";
 *
 * const shapes: HeadersLike[] = [
 *   new Headers({ traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }),
 *   { Traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
 *   [["traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"]],
 *   null,
 * ];
 * for (const h of shapes) console.log(extractTraceHeaders(h));
 * ```
 */
export type HeadersLike =
  | Headers
  | { readonly headers: Headers }
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | ReadonlyMap<string, string | readonly string[]>
  | Iterable<readonly [string, string]>
  | null
  | undefined;

/**
 * Reads a header by its lower-case name; `undefined` when absent.
 *
 * @example
 * ```ts
 * import { type HeaderGetter, headerGetter } from "@llmtrace/otel";
 *
 * const get: HeaderGetter = headerGetter({ "X-Request-Id": "42" });
 * console.log(get("x-request-id")); // "42"
 * ```
 */
export type HeaderGetter = (lowerName: string) => string | undefined;

function joinValue(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) {
    const parts = v.filter((x): x is string => typeof x === "string");
    // Several values join as one list, as `Headers` does; a duplicated
    // `traceparent` then fails the strict parse, as the specification wants.
    return parts.length ? parts.join(",") : undefined;
  }
  return undefined;
}

function lookupCaseInsensitive(
  entries: Iterable<readonly [unknown, unknown]>,
  lowerName: string,
): string | undefined {
  let found: string[] | undefined;
  for (const [k, v] of entries) {
    if (typeof k === "string" && k.toLowerCase() === lowerName) {
      const j = joinValue(v);
      if (j !== undefined) (found ??= []).push(j);
    }
  }
  return found?.join(",");
}

/**
 * Turns any {@link HeadersLike} into a case-insensitive getter. Never throws:
 * unusable input reads as having no headers.
 *
 * @param headers The headers in any accepted shape.
 * @returns A function from a lower-case header name to its value.
 *
 * @example
 * ```ts
 * import { headerGetter } from "@llmtrace/otel";
 *
 * const get = headerGetter({ TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });
 * console.log(get("traceparent"));
 * ```
 */
export function headerGetter(headers: HeadersLike): HeaderGetter {
  const get = buildGetter(headers);
  // The lookup itself may also run user code (getters, proxies, iterators).
  return (n) => {
    try {
      return get(n);
    } catch {
      return undefined;
    }
  };
}

function buildGetter(headers: HeadersLike): HeaderGetter {
  try {
    if (headers == null || typeof headers !== "object") return () => undefined;
    if (headers instanceof Headers) {
      return (n) => headers.get(n) ?? undefined;
    }
    const inner = (headers as { headers?: unknown }).headers;
    if (inner instanceof Headers) return (n) => inner.get(n) ?? undefined;
    if (headers instanceof Map) {
      const map = headers as ReadonlyMap<unknown, unknown>;
      return (n) => lookupCaseInsensitive(map, n);
    }
    if (Symbol.iterator in headers) {
      const pairs: [unknown, unknown][] = [];
      let count = 0;
      for (const p of headers as Iterable<unknown>) {
        if (++count > 10_000) break; // bounded, whatever the iterable is
        if (Array.isArray(p) && p.length >= 2) pairs.push([p[0], p[1]]);
      }
      return (n) => lookupCaseInsensitive(pairs, n);
    }
    // Every spelling of the name counts (`traceparent` and `Traceparent` are
    // one header given twice), as for a Map or a list of pairs.
    const rec = headers as Record<string, unknown>;
    return (n) => lookupCaseInsensitive(Object.entries(rec), n);
  } catch {
    return () => undefined;
  }
}

/**
 * Tells whether the headers carry W3C trace context (`traceparent` or
 * `tracestate`, any case).
 *
 * @param headers The headers in any {@link HeadersLike} shape.
 * @returns `true` when either trace header is present.
 *
 * @example
 * ```ts
 * import { containsTraceHeaders } from "@llmtrace/otel";
 *
 * console.log(containsTraceHeaders(new Headers({ tracestate: "a=1" }))); // true
 * console.log(containsTraceHeaders(null)); // false
 * ```
 */
export function containsTraceHeaders(headers: HeadersLike): boolean {
  const get = headerGetter(headers);
  return TRACE_HEADERS.some((h) => get(h) !== undefined);
}

/**
 * Copies only the trace headers, with lower-case keys, as vLLM does before it
 * hands them to the engine.
 *
 * @param headers The headers in any {@link HeadersLike} shape.
 * @returns An object with `traceparent` and/or `tracestate`, possibly empty.
 *
 * @example
 * ```ts
 * import { extractTraceHeaders } from "@llmtrace/otel";
 *
 * const h = extractTraceHeaders({
 *   "Content-Type": "application/json",
 *   Traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
 *   TraceState: "congo=t61rcWkgMzE",
 * });
 * console.log(h); // { traceparent: "00-…-01", tracestate: "congo=t61rcWkgMzE" }
 * ```
 */
export function extractTraceHeaders(
  headers: HeadersLike,
): { traceparent?: string; tracestate?: string } {
  const get = headerGetter(headers);
  const out: { traceparent?: string; tracestate?: string } = {};
  for (const h of TRACE_HEADERS) {
    const v = get(h);
    if (v !== undefined) out[h] = v;
  }
  return out;
}

/**
 * Extracts the remote parent from W3C trace headers, under the strict rules
 * of {@link parseTraceparent}. Unlike vLLM, which returns a context even for
 * headers without trace context, this returns `undefined` whenever there is
 * no valid `traceparent`, so callers can fall back to {@link getSmartContext}.
 * It works whether or not `@opentelemetry/api` has been loaded.
 *
 * @param headers The headers in any {@link HeadersLike} shape.
 * @returns The context to start child spans in, or `undefined`.
 *
 * @example
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { extractTraceContext } from "@llmtrace/otel";
 *
 * const ctx = extractTraceContext({
 *   traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
 * });
 * trace.getTracer("example").startSpan("child", {}, ctx).end();
 * ```
 */
export function extractTraceContext(
  headers: HeadersLike,
): Context | undefined {
  const get = headerGetter(headers);
  return contextFromTraceparent(get("traceparent"), get("tracestate"));
}
