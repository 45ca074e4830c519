/**
 * Attribute values made safe to record: only what OpenTelemetry can carry.
 *
 * @module
 */
import type { Attributes, AttributeValue } from "./types.ts";
import { boundAttributes } from "./limits.ts";

function isPrimitive(v: unknown): v is string | number | boolean {
  return typeof v === "string" || typeof v === "boolean" ||
    (typeof v === "number" && !Number.isNaN(v));
}

/**
 * Keeps the attribute values OpenTelemetry can carry (strings, numbers,
 * booleans and homogeneous arrays of them); `bigint` becomes a number when
 * safe. Objects, functions, `NaN`, `null` and mixed arrays are dropped: a
 * documented drop, never an error inside a request. Strings are cut to the
 * attribute value length limit (`OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else
 * 4096).
 *
 * @param attrs Candidate attributes.
 * @returns The attributes that can be recorded.
 *
 * @example
 * ```ts
 * import { sanitizeAttributes } from "@llmtrace/otel";
 *
 * console.log(sanitizeAttributes({ a: 1, b: { x: 1 }, c: () => 1 })); // { a: 1 }
 * ```
 */
export function sanitizeAttributes(attrs: unknown): Attributes {
  const out: Attributes = {};
  if (attrs === null || typeof attrs !== "object" || Array.isArray(attrs)) {
    return out;
  }
  for (const [k, v] of Object.entries(attrs as Record<string, unknown>)) {
    if (isPrimitive(v)) out[k] = v;
    else if (typeof v === "bigint") {
      if (
        v <= BigInt(Number.MAX_SAFE_INTEGER) &&
        v >= -BigInt(Number.MAX_SAFE_INTEGER)
      ) {
        out[k] = Number(v);
      }
    } else if (Array.isArray(v) && v.length <= 1024) {
      const t = typeof v[0];
      if (v.every((x) => isPrimitive(x) && typeof x === t)) {
        out[k] = v as AttributeValue;
      }
    }
  }
  return boundAttributes(out);
}
