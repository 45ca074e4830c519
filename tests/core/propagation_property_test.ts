// Properties (fast-check, bounded runs) of src/core/propagation.ts: the W3C
// parsers never throw on any input, and every traceparent/tracestate that
// formatTraceHeaders produces parses back to the same ids and entries.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatTraceHeaders,
  parseTraceparent,
  parseTracestate,
} from "../../src/core/propagation.ts";
import {
  hostileString,
  RUNS,
  usePropertyTracing,
} from "../support/property_arbitraries.ts";

usePropertyTracing();

test("parseTraceparent and parseTracestate never throw on any string; what they accept is what the header said", () => {
  fc.assert(
    fc.property(fc.oneof(hostileString, fc.anything()), (v) => {
      const sc = parseTraceparent(v as string);
      const ts = parseTracestate(v as string);
      if (typeof v !== "string") {
        assert.equal(sc, undefined);
        assert.equal(ts, undefined);
        return;
      }
      if (sc) {
        // The ids and flags are the header's own fields, lower-case hex.
        const h = v.trim();
        assert.match(sc.traceId, /^[0-9a-f]{32}$/);
        assert.match(sc.spanId, /^[0-9a-f]{16}$/);
        assert.equal(sc.traceId, h.slice(3, 35));
        assert.equal(sc.spanId, h.slice(36, 52));
        assert.equal(sc.traceFlags, parseInt(h.slice(53, 55), 16));
        assert.equal(sc.isRemote, true);
      }
      if (ts) {
        // A non-empty list of members the header held, which reads back the
        // same.
        const out = ts.serialize();
        assert.notEqual(out, "");
        assert.equal(parseTracestate(out)?.serialize(), out);
        for (const member of out.split(",")) {
          const key = member.slice(0, member.indexOf("="));
          assert.ok(v.includes(member), member);
          assert.equal(ts.get(key), member.slice(key.length + 1));
        }
      }
    }),
    { numRuns: RUNS },
  );
});

const hex = (bytes: Uint8Array) =>
  [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const nonZeroId = (n: number) =>
  fc.uint8Array({ minLength: n, maxLength: n })
    .filter((b) => b.some((x) => x !== 0))
    .map(hex);
const tsKey = fc.stringMatching(/^[a-z0-9][a-z0-9_\-*/@]{0,20}$/);
const tsValue = fc.stringMatching(
  /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,20}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/,
);

test("every traceparent formatTraceHeaders produces parses back to the same ids", () => {
  fc.assert(
    fc.property(
      nonZeroId(16),
      nonZeroId(8),
      fc.integer({ min: 0, max: 255 }),
      fc.uniqueArray(fc.tuple(tsKey, tsValue), {
        maxLength: 5,
        selector: ([k]) => k,
      }),
      (traceId, spanId, traceFlags, entries) => {
        const traceState = parseTracestate(
          entries.map(([k, v]) => `${k}=${v}`).join(","),
        );
        const out = formatTraceHeaders({
          traceId,
          spanId,
          traceFlags,
          traceState,
        });
        assert.ok(out);
        assert.match(
          out.traceparent,
          /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/,
        );
        const back = parseTraceparent(out.traceparent);
        assert.ok(back, out.traceparent);
        assert.equal(back.traceId, traceId);
        assert.equal(back.spanId, spanId);
        assert.equal(back.traceFlags, traceFlags);
        if (entries.length) {
          const ts = parseTracestate(out.tracestate);
          assert.ok(ts, String(out.tracestate));
          for (const [k, v] of entries) assert.equal(ts.get(k), v);
        } else assert.equal(out.tracestate, undefined);
      },
    ),
    { numRuns: RUNS },
  );
});
