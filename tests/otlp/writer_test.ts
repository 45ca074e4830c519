// llmtrace's one-pass OTLP span writer against the official
// ProtobufTraceSerializer: byte-identical output for arbitrary batches of
// real SDK spans (fast-check), the same spans when both are decoded by the
// test receiver's independent decoder, `doubleKeys` turning ints into equal
// doubles and nothing else, and no throw on spans the SDK could not make.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import {
  createOtlpSpanWriter,
  DOUBLE_ATTRIBUTE_KEYS,
} from "../../src/otlp/writer.ts";
import { SpanAttributes } from "../../src/core/attributes.ts";
import {
  type AttrValue,
  decodeExportTraceRequest,
  type ReceivedSpan,
} from "../support/otlp_receiver.ts";
import { batchPlan, buildBatch } from "./span_batches.ts";
import { bigBatch, hostileSpans } from "./span_fixtures.ts";

// WRITER_RUNS=5000 for a longer hunt (bounded).
const RUNS = Math.min(
  Number(globalThis.process?.env.WRITER_RUNS ?? "") || 150,
  20000,
);
const official = (spans: ReadableSpan[]) =>
  ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array(0);
// One writer for all runs, so its key and value caches carry across batches.
const asOfficial = createOtlpSpanWriter({ doubleKeys: new Set() });

function assertSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  let i = 0;
  while (i < actual.length && actual[i] === expected[i]) i++;
  if (i === actual.length && i === expected.length) return;
  assert.fail(
    `bytes differ at offset ${i} (ours ${actual.length} bytes, official ` +
      `${expected.length}): ours ${actual.subarray(i, i + 8)}, official ` +
      `${expected.subarray(i, i + 8)}`,
  );
}

test("arbitrary batches: byte-identical to the official serializer, decoded equal", () => {
  let spansSeen = 0;
  fc.assert(
    fc.property(batchPlan, (plan) => {
      const spans = buildBatch(plan);
      spansSeen += spans.length;
      const expected = official(spans);
      const actual = asOfficial.serializeRequest(spans);
      assert.deepEqual(
        decodeExportTraceRequest(actual),
        decodeExportTraceRequest(expected),
      );
      assertSameBytes(actual, expected);
    }),
    { numRuns: RUNS },
  );
  assert.ok(spansSeen > RUNS, `only ${spansSeen} spans generated`);
});

/** The span with every attribute map emptied, to compare all the rest. */
function withoutAttributes(s: ReceivedSpan): unknown {
  return {
    ...s,
    attributes: {},
    attributeTypes: {},
    resource: {},
    events: s.events.map((e) => ({ ...e, attributes: {} })),
    links: s.links.map((l) => ({ ...l, attributes: {} })),
  };
}

/** Same values, except that an int under a double key may be an equal double. */
function assertValues(
  ours: Record<string, AttrValue>,
  theirs: Record<string, AttrValue>,
  keys: ReadonlySet<string>,
): void {
  assert.deepEqual(Object.keys(ours), Object.keys(theirs));
  for (const k of Object.keys(theirs)) {
    const t = theirs[k];
    const whole = typeof t === "bigint" ||
      (typeof t === "number" && Number.isInteger(t));
    if (keys.has(k) && whole) {
      assert.ok(Number(t) === ours[k], `${k}: ${ours[k]} vs ${t}`);
    } else assert.deepEqual(ours[k], t, k);
  }
}

test("doubleKeys: whole numbers under those keys go out as equal doubles, nothing else changes", () => {
  const keys = new Set([
    "gen_ai.request.temperature",
    "k",
    "1",
    "é",
    "server.port",
  ]);
  const writer = createOtlpSpanWriter({ doubleKeys: keys });
  let converted = 0;
  fc.assert(
    fc.property(batchPlan, (plan) => {
      const spans = buildBatch(plan);
      const theirs = decodeExportTraceRequest(official(spans));
      const ours = decodeExportTraceRequest(writer.serializeRequest(spans));
      assert.equal(ours.length, theirs.length);
      ours.forEach((o, i) => {
        const t = theirs[i];
        for (const [k, type] of Object.entries(t.attributeTypes)) {
          const expected = keys.has(k) && type === "int" ? "double" : type;
          if (expected !== type) converted++;
          assert.equal(o.attributeTypes[k], expected, k);
        }
        assertValues(o.attributes, t.attributes, keys);
        assertValues(o.resource, t.resource, keys);
        o.events.forEach((e, j) =>
          assertValues(e.attributes, t.events[j].attributes, keys)
        );
        o.links.forEach((l, j) =>
          assertValues(l.attributes, t.links[j].attributes, keys)
        );
        assert.deepEqual(withoutAttributes(o), withoutAttributes(t));
      });
    }),
    { numRuns: RUNS },
  );
  assert.ok(converted > 0, "no int was ever converted: the test is vacuous");
});

test("DOUBLE_ATTRIBUTE_KEYS is the default and covers the GenAI double keys (not top_k, an int)", () => {
  for (
    const k of [
      SpanAttributes.GEN_AI_REQUEST_TEMPERATURE,
      SpanAttributes.GEN_AI_REQUEST_TOP_P,
      SpanAttributes.GEN_AI_REQUEST_FREQUENCY_PENALTY,
      SpanAttributes.GEN_AI_REQUEST_PRESENCE_PENALTY,
      SpanAttributes.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
      ...Object.values(SpanAttributes).filter((v) =>
        v.startsWith("gen_ai.latency.")
      ),
    ]
  ) assert.ok(DOUBLE_ATTRIBUTE_KEYS.has(k), k);
  // Ints, whole numbers under them stay ints: top_k since
  // semantic-conventions-genai #217, in every mode.
  for (
    const k of [
      SpanAttributes.GEN_AI_REQUEST_MAX_TOKENS,
      SpanAttributes.GEN_AI_REQUEST_TOP_K,
    ]
  ) assert.equal(DOUBLE_ATTRIBUTE_KEYS.has(k), false, k);
  const spans = bigBatch(3, {
    "gen_ai.request.temperature": 1,
    "gen_ai.request.max_tokens": 1,
  });
  for (
    const s of decodeExportTraceRequest(
      createOtlpSpanWriter().serializeRequest(spans),
    )
  ) {
    assert.equal(s.attributeTypes["gen_ai.request.temperature"], "double");
    assert.equal(s.attributes["gen_ai.request.temperature"], 1);
    assert.equal(s.attributeTypes["gen_ai.request.max_tokens"], "int");
  }
});

test("length prefixes at every varint boundary, and a batch far past the initial buffer", () => {
  const sizes = [0, 1, 63, 64, 127, 128, 200, 16383, 16384, 70000];
  for (const n of sizes) {
    for (const s of ["a".repeat(n), "é".repeat(n >> 1), "a😀".repeat(n >> 2)]) {
      const spans = bigBatch(2, { s, [s.slice(0, 200) || "e"]: [s, s] }, s);
      assertSameBytes(asOfficial.serializeRequest(spans), official(spans));
    }
  }
  const many = bigBatch(1500, { "gen_ai.request.model": "m/opt", n: 7 });
  assertSameBytes(asOfficial.serializeRequest(many), official(many));
  assertSameBytes(asOfficial.serializeRequest([]), official([]));
});

test("never throws on spans the SDK could not have made; readable spans still go out", () => {
  const { good, bad } = hostileSpans();
  for (const batch of [[...bad, good], [good, ...bad], bad]) {
    const out = asOfficial.serializeRequest(batch);
    const names = decodeExportTraceRequest(out).map((s) => s.name);
    assert.equal(names.includes("good"), batch.includes(good), String(names));
  }
  assert.equal(asOfficial.serializeRequest(null as never).length, 0);
});

test("wrong types from JS callers are written as the official serializer writes them", () => {
  const [span] = bigBatch(1, { a: 1 });
  const odd: Record<string, unknown>[] = [
    { kind: "1" },
    { kind: 7.9 },
    { name: 5 },
    { status: { code: "2", message: 7 } },
    { status: { code: 1.5 } },
    { droppedAttributesCount: "3" },
    { droppedEventsCount: -1 },
    { droppedLinksCount: 2 ** 40 },
  ];
  for (const over of odd) {
    const s = { ...span, spanContext: span.spanContext, ...over };
    const batch = [s as unknown as ReadableSpan];
    assertSameBytes(asOfficial.serializeRequest(batch), official(batch));
  }
});

test("HrTime outside the SDK's range: truncated, negative totals as 0 (where the official wraps)", () => {
  const [span] = bigBatch(1, {});
  const times: [unknown, bigint][] = [
    [[-1, -500_000_000], 0n],
    [[1.9, 0.5], 1_000_000_000n],
    [[2 ** 33, 7], 2n ** 33n * 1_000_000_000n + 7n],
    [[NaN, 5], 5n],
    [undefined, 0n],
  ];
  for (const [t, nanos] of times) {
    const s = {
      ...span,
      spanContext: span.spanContext,
      startTime: t,
    } as ReadableSpan;
    const [got] = decodeExportTraceRequest(asOfficial.serializeRequest([s]));
    assert.equal(got.startTimeUnixNano, nanos, String(t));
  }
});

test("deserializeResponse reads partial success as the official one does", () => {
  const cases = [
    [],
    [0x0a, 0x00],
    [0x0a, 0x07, 0x08, 0x05, 0x12, 0x03, 0x62, 0x61, 0x64],
    [0x0a, 0x0b, 0x08, ...[
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x01,
    ]],
    [0x10, 0x01, 0x0a, 0x02, 0x08, 0x03],
  ];
  const writer = createOtlpSpanWriter();
  for (const c of cases) {
    const bytes = new Uint8Array(c);
    assert.deepEqual(
      writer.deserializeResponse(bytes),
      ProtobufTraceSerializer.deserializeResponse(bytes),
      String(c),
    );
  }
  assert.throws(() =>
    writer.deserializeResponse(new Uint8Array([0x0a, 0x05, 0x08]))
  );
});
