// Property (fast-check, bounded runs): hostile header inputs never make the
// header helpers of src/core/headers.ts throw, and what they extract is
// only traceparent/tracestate strings and a valid remote parent.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { trace } from "@opentelemetry/api";
import {
  containsTraceHeaders,
  extractTraceContext,
  extractTraceHeaders,
  type HeadersLike,
} from "../../src/core/headers.ts";
import { parseTraceparent } from "../../src/core/propagation.ts";
import {
  hostileString,
  RUNS,
  usePropertyTracing,
} from "../support/property_arbitraries.ts";

usePropertyTracing();

const TRACE_NAMES = ["traceparent", "TraceParent", "TRACESTATE", "tracestate"];

const headerKey = fc.oneof(fc.constantFrom(...TRACE_NAMES), hostileString);
const headerValue = fc.oneof(
  hostileString,
  fc.array(hostileString, { maxLength: 4 }),
  fc.anything(),
);

/** An object whose property reads throw. */
function throwingObject(keys: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of keys) {
    Object.defineProperty(o, k, {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
  }
  return o;
}

const hostileHeaders: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything(),
  fc.dictionary(headerKey, headerValue),
  fc.array(fc.tuple(headerKey, headerValue), { maxLength: 8 }),
  fc.array(fc.anything(), { maxLength: 8 }),
  fc.array(fc.tuple(headerKey, headerValue), { maxLength: 8 }).map((p) =>
    new Map(p)
  ),
  fc.uniqueArray(fc.constantFrom(...TRACE_NAMES), { maxLength: 3 }).map(
    throwingObject,
  ),
  fc.constant(
    new Proxy({}, {
      ownKeys() {
        throw new Error("boom");
      },
      get() {
        throw new Error("boom");
      },
    }),
  ),
  fc.constant({
    *[Symbol.iterator]() {
      yield ["traceparent", "x"];
      throw new Error("boom");
    },
  }),
  fc.constant({ headers: "not Headers" }),
  fc.array(fc.tuple(headerKey, hostileString), { maxLength: 6 }).map((p) => {
    const h = new Headers();
    for (const [k, v] of p) {
      try {
        h.append(k, v);
      } catch {
        // not a legal header: skip
      }
    }
    return h;
  }),
);

test("hostile header inputs never make the header helpers throw; the parent is the extracted traceparent's", () => {
  fc.assert(
    fc.property(hostileHeaders, (h) => {
      const headers = h as HeadersLike;
      const extracted = extractTraceHeaders(headers);
      for (const [k, v] of Object.entries(extracted)) {
        assert.ok(k === "traceparent" || k === "tracestate", k);
        assert.equal(typeof v, "string");
      }
      assert.equal(
        containsTraceHeaders(headers),
        Object.keys(extracted).length > 0,
      );
      // The parent is exactly the extracted traceparent's, under the strict
      // parser: no context when it is absent or invalid.
      const ctx = extractTraceContext(headers);
      const expected = parseTraceparent(extracted.traceparent);
      if (expected === undefined) assert.equal(ctx, undefined);
      else {
        const sc = ctx && trace.getSpanContext(ctx);
        assert.ok(sc && trace.isSpanContextValid(sc));
        assert.equal(sc.isRemote, true);
        assert.equal(sc.traceId, expected.traceId);
        assert.equal(sc.spanId, expected.spanId);
        assert.equal(sc.traceFlags, expected.traceFlags);
      }
    }),
    { numRuns: RUNS },
  );
});
