/**
 * Bounds on what llmtrace records: every string attribute value (and each
 * string of an array value) at most `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`,
 * else `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else
 * {@link DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT} characters; span names at most
 * {@link SPAN_NAME_LENGTH_LIMIT}. A request can carry a 1 MB model name or a
 * 100 kB header; a span must not. The same limit is given to the SDK's span
 * limits, so attributes set by hand on llmtrace's provider are bounded too.
 *
 * @module
 */
import type { Attributes, AttributeValue } from "./types.ts";
import { attributeValueLengthLimitEnv } from "./env_config.ts";

/** The default attribute value length limit, in UTF-16 code units. */
export const DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT = 4096;
/** The longest span name llmtrace makes, in UTF-16 code units. */
export const SPAN_NAME_LENGTH_LIMIT = 256;

let limit: number | undefined;

/** The attribute value length limit in force (read once; see {@link refreshLimits}). */
export function attributeValueLengthLimit(): number {
  return limit ??= attributeValueLengthLimitEnv() ??
    DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT;
}

/** Reads the limit from the environment again (`initTracer` does). */
export function refreshLimits(): number {
  limit = undefined;
  return attributeValueLengthLimit();
}

/** `s` cut to `max` code units, never through a surrogate pair. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const c = s.charCodeAt(max - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? max - 1 : max);
}

/** A string attribute value within the limit. */
export function boundValue(s: string): string {
  return truncate(s, attributeValueLengthLimit());
}

/** A span name within {@link SPAN_NAME_LENGTH_LIMIT}. */
export function boundName(s: string): string {
  return truncate(s, SPAN_NAME_LENGTH_LIMIT);
}

/**
 * Bounds every string value of `attrs` in place (and each string of an
 * array value, copying only arrays that change) and returns `attrs`.
 */
export function boundAttributes<T extends Attributes>(attrs: T): T {
  const max = attributeValueLengthLimit();
  for (const k in attrs) {
    const v = attrs[k];
    if (typeof v === "string") {
      if (v.length > max) (attrs as Attributes)[k] = truncate(v, max);
    } else if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x === "string" && x.length > max) {
          copy ??= v.slice();
          copy[i] = truncate(x, max);
        }
      }
      if (copy) (attrs as Attributes)[k] = copy as AttributeValue;
    }
  }
  return attrs;
}
