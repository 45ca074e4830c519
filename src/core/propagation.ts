/**
 * Strict W3C Trace Context: `traceparent` and `tracestate` parsed by the
 * specification's rules, stricter than the OpenTelemetry JS propagator where
 * it is lenient. Parsing needs nothing else; building a Context needs
 * `@opentelemetry/api`, loaded on demand.
 *
 * @module
 */
import type { Context, SpanContext, TraceState } from "./types.ts";
import { _api } from "./api.ts";
import { lightContextWith } from "./light_context.ts";

const HEX = /^[0-9a-f]+$/;
const TRACEPARENT_LEN = 55;
const MAX_TRACESTATE_MEMBERS = 32;
// key = ( lcalpha / DIGIT ) 0*255( lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@" )
const TRACESTATE_KEY = /^[a-z0-9][a-z0-9_\-*/@]{0,255}$/;
// value = 0*255(chr) nblk-chr, chr = %x20-2B / %x2D-3C / %x3E-7E
const TRACESTATE_VALUE =
  /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Parses a `traceparent` header strictly. Rejects version `ff`, upper-case
 * hex, all-zero ids, a version-00 header with extra fields, and anything a
 * duplicated header joins into one value; accepts a higher version with extra
 * fields, as the specification says.
 *
 * @param value The header value.
 * @returns The remote span context, or `undefined` when the header is invalid.
 *
 * @example
 * ```ts
 * import { parseTraceparent } from "@llmtrace/otel";
 *
 * const sc = parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
 * console.log(sc?.traceId); // "0af7651916cd43dd8448eb211c80319c"
 * console.log(parseTraceparent("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01")); // undefined
 * ```
 */
export function parseTraceparent(
  value: string | null | undefined,
): SpanContext | undefined {
  if (typeof value !== "string") return undefined;
  const v = value.trim();
  if (v.length < TRACEPARENT_LEN) return undefined;
  if (
    v[2] !== "-" || v[35] !== "-" || v[52] !== "-"
  ) return undefined;
  const version = v.slice(0, 2);
  if (!HEX.test(version) || version === "ff") return undefined;
  if (version === "00") {
    if (v.length !== TRACEPARENT_LEN) return undefined;
  } else if (v.length > TRACEPARENT_LEN && v[TRACEPARENT_LEN] !== "-") {
    return undefined;
  }
  const traceId = v.slice(3, 35);
  const spanId = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) {
    return undefined;
  }
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return {
    traceId,
    spanId,
    traceFlags: parseInt(flags, 16) & 0xff,
    isRemote: true,
  };
}

/**
 * A `TraceState` that holds only entries valid under the W3C grammar. It is
 * immutable: `set` and `unset` return a new state, as the API requires.
 */
class StrictTraceState implements TraceState {
  readonly #entries: ReadonlyArray<readonly [string, string]>;
  constructor(entries: ReadonlyArray<readonly [string, string]>) {
    this.#entries = entries;
  }
  get(key: string): string | undefined {
    for (const [k, v] of this.#entries) if (k === key) return v;
    return undefined;
  }
  set(key: string, value: string): TraceState {
    if (!TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(value)) return this;
    const rest = this.#entries.filter(([k]) => k !== key);
    return new StrictTraceState(
      [[key, value] as const, ...rest].slice(0, MAX_TRACESTATE_MEMBERS),
    );
  }
  unset(key: string): TraceState {
    return new StrictTraceState(this.#entries.filter(([k]) => k !== key));
  }
  serialize(): string {
    return this.#entries.map(([k, v]) => `${k}=${v}`).join(",");
  }
}

/**
 * Parses a `tracestate` header strictly: more than 32 members, a key over 256
 * characters, an illegal key or value, or a member without `=` invalidates
 * the whole header. Empty members (`a=1,,b=2`) are allowed. A key given twice
 * (`a=1,a=2`, also across two headers joined with `,`) keeps its first, most
 * recent, value and the later duplicate is discarded, as the specification
 * allows ("vendors MAY also discard duplicate keys"); the header stays.
 *
 * @param value The header value (several headers joined with `,`).
 * @returns The trace state, or `undefined` when the header is invalid or empty.
 *
 * @example
 * ```ts
 * import { parseTracestate } from "@llmtrace/otel";
 *
 * console.log(parseTracestate("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")?.get("rojo"));
 * console.log(parseTracestate("UPPER=1")); // undefined
 * console.log(parseTracestate("a=1,a=2")?.serialize()); // "a=1"
 * ```
 */
export function parseTracestate(
  value: string | null | undefined,
): TraceState | undefined {
  if (typeof value !== "string") return undefined;
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  let members = 0;
  for (const raw of value.split(",")) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, "");
    if (member === "") continue;
    // The limit is on list members as sent, duplicates included.
    if (++members > MAX_TRACESTATE_MEMBERS) return undefined;
    const eq = member.indexOf("=");
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    const val = member.slice(eq + 1);
    if (!TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(val)) {
      return undefined;
    }
    if (seen.has(key)) continue; // the first (leftmost, newest) one stays
    seen.add(key);
    entries.push([key, val]);
  }
  return entries.length ? new StrictTraceState(entries) : undefined;
}

/**
 * Builds a Context holding the remote span described by `traceparent` (and
 * `tracestate`), or `undefined` when `traceparent` is absent or invalid. An
 * invalid `tracestate` is dropped while a valid `traceparent` is kept, as the
 * specification says. Works whether or not `@opentelemetry/api` is loaded:
 * before it is, the Context is llmtrace's own, of the API's shape, and works
 * as a parent for any copy of the API and SDK.
 *
 * @param traceparent The `traceparent` value.
 * @param tracestate The `tracestate` value.
 * @param base The context to extend; the root context by default.
 * @returns The context with the remote span, or `undefined`.
 *
 * @example
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { contextFromTraceparent } from "@llmtrace/otel";
 *
 * const ctx = contextFromTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
 * console.log(ctx && trace.getSpanContext(ctx)?.spanId); // "b7ad6b7169203331"
 * ```
 */
export function contextFromTraceparent(
  traceparent: string | null | undefined,
  tracestate?: string | null,
  base?: Context,
): Context | undefined {
  const sc = parseTraceparent(traceparent);
  if (!sc) return undefined;
  const ts = parseTracestate(tracestate);
  if (ts) sc.traceState = ts;
  const api = _api();
  // Without the API loaded (tracing off), a Context of the same shape: it
  // works as a parent once any copy of the API starts spans.
  return api
    ? api.trace.setSpanContext(base ?? api.ROOT_CONTEXT, sc)
    : lightContextWith(sc, base);
}

/** The API's rule for a valid span context, without loading the API. */
function isValidSpanContext(sc: SpanContext): boolean {
  return typeof sc.traceId === "string" && sc.traceId.length === 32 &&
    typeof sc.spanId === "string" && sc.spanId.length === 16 &&
    /^[0-9a-f]+$/i.test(sc.traceId) && /^[0-9a-f]+$/i.test(sc.spanId) &&
    !/^0+$/.test(sc.traceId) && !/^0+$/.test(sc.spanId);
}

/**
 * Formats a span context as `traceparent` / `tracestate` values under the
 * strict grammar (version 00). Invalid span contexts give `undefined`.
 *
 * @param sc The span context to format.
 * @returns The header values, or `undefined`.
 *
 * @example
 * ```ts
 * import { formatTraceHeaders } from "@llmtrace/otel";
 *
 * const h = formatTraceHeaders({
 *   traceId: "0af7651916cd43dd8448eb211c80319c",
 *   spanId: "b7ad6b7169203331",
 *   traceFlags: 1,
 * });
 * console.log(h?.traceparent); // "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
 * ```
 */
export function formatTraceHeaders(
  sc: SpanContext | undefined,
): { traceparent: string; tracestate?: string } | undefined {
  if (!sc || !isValidSpanContext(sc)) return undefined;
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, "0");
  const out: { traceparent: string; tracestate?: string } = {
    traceparent: `00-${sc.traceId}-${sc.spanId}-${flags}`,
  };
  const ts = sc.traceState?.serialize();
  if (ts) {
    const strict = parseTracestate(ts);
    if (strict) out.tracestate = strict.serialize();
  }
  return out;
}
