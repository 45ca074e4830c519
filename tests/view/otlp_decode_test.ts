// The viewer's OTLP decoders against the official encoders: arbitrary batches
// of real SDK spans (fast-check, tests/otlp/span_batches.ts) serialized by
// ProtobufTraceSerializer decode to exactly what the independent protobufjs
// decoder of tests/support reads; the same batches as OTLP/JSON
// (JsonTraceSerializer) decode to the same spans; and malformed bodies give
// an OtlpDecodeError, never another exception or a hang.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  JsonTraceSerializer,
  ProtobufTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import { decodeTraceProto } from "../../src/view/otlp_proto.ts";
import { decodeTraceJson } from "../../src/view/otlp_json.ts";
import { OtlpDecodeError, type ViewSpan } from "../../src/view/model.ts";
import { decodeExportTraceRequest } from "../support/otlp_receiver.ts";
import { batchPlan, buildBatch } from "../otlp/span_batches.ts";
import { routedRequest } from "./traces.ts";

const RUNS = 120;

function reference(bytes: Uint8Array): ViewSpan[] {
  return decodeExportTraceRequest(bytes).map((s) => {
    const { attributeTypes: _types, ...rest } = s;
    return rest as unknown as ViewSpan;
  });
}

// JSON cannot carry NaN or ±Infinity (the official serializer writes null),
// bytes travel as base64, a lone surrogate stays one in JSON but becomes
// U+FFFD in protobuf's UTF-8, and an integer past int64 goes out as a
// protobuf double but a JSON intValue: compare what both can say.
function comparable(v: unknown): unknown {
  if (typeof v === "string") return v.toWellFormed();
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number" && !Number.isFinite(v)) return null;
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(comparable);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k.toWellFormed(), comparable(x)]),
    );
  }
  return v;
}

test("protobuf: arbitrary batches decode as the independent decoder reads them", () => {
  let seen = 0;
  fc.assert(
    fc.property(batchPlan, (plan) => {
      const spans = buildBatch(plan);
      seen += spans.length;
      const bytes = ProtobufTraceSerializer.serializeRequest(spans)!;
      assert.deepEqual(decodeTraceProto(bytes), reference(bytes));
    }),
    { numRuns: RUNS },
  );
  assert.ok(seen > RUNS, `only ${seen} spans generated`);
});

test("OTLP/JSON: arbitrary batches decode to the same spans as their protobuf", () => {
  fc.assert(
    fc.property(batchPlan, (plan) => {
      const spans = buildBatch(plan);
      const json = new TextDecoder().decode(
        JsonTraceSerializer.serializeRequest(spans)!,
      );
      const proto = decodeTraceProto(
        ProtobufTraceSerializer.serializeRequest(spans)!,
      );
      const fromJson = decodeTraceJson(JSON.parse(json));
      // An id that is not even-length hex (the generator makes some) goes
      // out verbatim in JSON but as whatever bytes in protobuf.
      const hex = /^(?:[0-9a-f]{2})*$/;
      const fix = (j: Record<string, unknown>, p: Record<string, unknown>) => {
        for (const k of ["traceId", "spanId", "parentSpanId"]) {
          if (typeof j[k] === "string" && !hex.test(j[k] as string)) {
            j[k] = p[k];
          }
        }
      };
      fromJson.forEach((s, i) => {
        const p = proto[i];
        if (!p) return;
        fix(s as never, p as never);
        s.links.forEach((l, j) =>
          p.links[j] && fix(l as never, p.links[j] as never)
        );
      });
      assert.deepEqual(comparable(fromJson), comparable(proto));
    }),
    { numRuns: RUNS },
  );
});

test("a routed request decodes with its GenAI attributes, ids and times", () => {
  const sent = routedRequest({ ttftMs: 40, startMs: 1_700_000_000_000 });
  const got = decodeTraceProto(ProtobufTraceSerializer.serializeRequest(sent)!);
  assert.equal(got.length, 6);
  const llm = got.find((s) => s.name === "llm_request")!;
  assert.equal(llm.attributes["gen_ai.latency.time_to_first_token"], 0.038);
  assert.equal(llm.attributes["gen_ai.usage.completion_tokens"], 12);
  assert.equal(llm.startTimeUnixNano, 1_700_000_000_004_000_000n);
  assert.equal(llm.resource["service.name"], "engine");
  assert.equal(llm.events[0].name, "first token");
  const root = got.find((s) => s.name === "client")!;
  assert.equal(root.parentSpanId, undefined);
  assert.match(root.traceId, /^[0-9a-f]{32}$/);
});

test("JSON: enums as names, int64 as strings or numbers, snake_case fields", () => {
  const spans = decodeTraceJson({
    resource_spans: [{
      resource: {
        attributes: [{ key: "service.name", value: { stringValue: "py" } }],
      },
      scope_spans: [{
        scope: { name: "vllm" },
        spans: [{
          trace_id: "0AF7651916CD43DD8448EB211C80319C",
          span_id: "b7ad6b7169203331",
          name: "llm_request",
          kind: "SPAN_KIND_SERVER",
          start_time_unix_nano: "1700000000000000001",
          endTimeUnixNano: 1700000000,
          attributes: [
            { key: "big", value: { intValue: "9223372036854775807" } },
            { key: "n", value: { intValue: 7 } },
            { key: "d", value: { doubleValue: "NaN" } },
            { key: "b", value: { bytesValue: "AAE=" } },
            { key: "__proto__", value: { stringValue: "data" } },
          ],
          status: { code: "STATUS_CODE_ERROR", message: "boom" },
        }],
      }],
    }],
  });
  assert.equal(spans.length, 1);
  const s = spans[0];
  assert.equal(s.traceId, "0af7651916cd43dd8448eb211c80319c");
  assert.equal(s.kind, 2);
  assert.equal(s.startTimeUnixNano, 1700000000000000001n);
  assert.equal(s.endTimeUnixNano, 1700000000n);
  assert.equal(s.attributes.big, 9223372036854775807n);
  assert.equal(s.attributes.n, 7);
  assert.ok(Number.isNaN(s.attributes.d));
  assert.deepEqual(s.attributes.b, new Uint8Array([0, 1]));
  assert.equal(Object.getPrototypeOf(s.attributes), Object.prototype);
  assert.equal(
    Object.getOwnPropertyDescriptor(s.attributes, "__proto__")?.value,
    "data",
  );
  assert.deepEqual(s.status, { code: 2, message: "boom" });
  assert.equal(s.resource["service.name"], "py");
});

test("JSON: a wrong shape names the path and what was expected", () => {
  assert.throws(
    () =>
      decodeTraceJson({
        resourceSpans: [{ scopeSpans: [{ spans: [{ name: 7 }] }] }],
      }),
    (e) =>
      e instanceof OtlpDecodeError &&
      /\$\.resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.name: expected a string, got number/
        .test(e.message),
  );
  assert.throws(() => decodeTraceJson({ resourceSpans: 3 }), OtlpDecodeError);
  assert.throws(() => decodeTraceJson("text"), OtlpDecodeError);
});

test("protobuf: every truncation and random bytes decode or throw OtlpDecodeError", () => {
  const bytes = ProtobufTraceSerializer.serializeRequest(routedRequest())!;
  let failed = 0;
  for (let n = 0; n < bytes.length; n++) {
    try {
      decodeTraceProto(bytes.subarray(0, n));
    } catch (e) {
      assert.ok(e instanceof OtlpDecodeError, `cut at ${n}: ${e}`);
      assert.match(e.message, /at byte \d+/);
      failed++;
    }
  }
  assert.ok(failed > bytes.length / 2, `only ${failed} cuts failed`);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
      try {
        decodeTraceProto(junk);
      } catch (e) {
        assert.ok(e instanceof OtlpDecodeError, String(e));
      }
    }),
    { numRuns: 500 },
  );
});

test("protobuf: AnyValue nested 1,000 deep is refused, not a stack overflow", () => {
  // ArrayValue{values: AnyValue{array_value: ...}} nested: each level is a
  // field-5 AnyValue holding a field-1 ArrayValue entry.
  let inner: number[] = [0x0a, 0x00]; // AnyValue{string_value: ""}
  const wrap = (tag: number, body: number[]) => {
    const len: number[] = [];
    let n = body.length;
    do {
      len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
    } while (n);
    return [tag, ...len, ...body];
  };
  for (let i = 0; i < 1_000; i++) inner = wrap(0x2a, wrap(0x0a, inner));
  const kv = wrap(0x12, inner); // KeyValue.value
  const span = wrap(0x4a, [0x0a, 0x01, 0x6b, ...kv]); // Span.attributes
  const body = wrap(0x0a, wrap(0x12, wrap(0x12, span)));
  assert.throws(
    () => decodeTraceProto(new Uint8Array(body)),
    (e) =>
      e instanceof OtlpDecodeError && /nested deeper than 32/.test(e.message),
  );
});
