/**
 * What `tracedFetch` (`client.ts`) sends upstream besides the caller's
 * request: trace headers where `propagateTo` allows them, and the signal
 * that stops the call when the served client goes away.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import type { Context } from "../core/types.ts";
import type { OtelApi } from "../core/api.ts";
import { formatTraceHeaders } from "../core/propagation.ts";
import type { UrlParts } from "../core/url.ts";
import { runtime } from "../runtime/detect.ts";

/** `scheme://host[:port]`, the port only when it is not the default. */
export function originOf(u: UrlParts): string {
  const host = u.host.includes(":") ? `[${u.host}]` : u.host;
  const defaultPort = (u.scheme === "http" && u.port === 80) ||
    (u.scheme === "https" && u.port === 443) || u.port === undefined;
  return `${u.scheme}://${host}${defaultPort ? "" : `:${u.port}`}`;
}

/** Whether `propagateTo` lets trace headers go to `url` (a throwing rule: no). */
export function allowed(
  url: string,
  origin: string,
  rule: readonly string[] | ((url: string) => boolean) | undefined,
): boolean {
  if (rule === undefined) return true;
  try {
    return typeof rule === "function"
      ? rule(url) === true
      : rule.includes(origin);
  } catch {
    return false;
  }
}

/**
 * Sets `traceparent`/`tracestate` for `span` (strict W3C formatting) and
 * whatever else the registered propagator adds (baggage) on `headers`.
 */
export function injectTraceHeaders(
  api: OtelApi,
  headers: Headers,
  parent: Context,
  span: Span,
): void {
  const carrier: Record<string, string> = {};
  try {
    api.propagation.inject(api.trace.setSpan(parent, span), carrier);
  } catch {
    // a broken propagator must not break the call
  }
  for (const [k, v] of Object.entries(carrier)) {
    if (k !== "traceparent" && k !== "tracestate") headers.set(k, v);
  }
  const tc = formatTraceHeaders(span.spanContext());
  headers.delete("traceparent");
  headers.delete("tracestate");
  if (tc) {
    headers.set("traceparent", tc.traceparent);
    if (tc.tracestate) headers.set("tracestate", tc.tracestate);
  }
}

/**
 * The signal of the upstream call: the caller's own (`init.signal`, else a
 * `Request` input's), joined with the served request's client-gone signal.
 */
export function upstreamSignal(
  init: RequestInit | undefined,
  request: Request | undefined,
  served: Request | undefined,
): AbortSignal | undefined {
  const signals = [
    init?.signal ?? request?.signal,
    served ? runtime().clientGoneSignal(served) : undefined,
  ].filter((s): s is AbortSignal => s instanceof AbortSignal);
  return signals.length > 1 && typeof AbortSignal.any === "function"
    ? AbortSignal.any(signals)
    : signals[0];
}
