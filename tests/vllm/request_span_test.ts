// recordRequestSpan: vLLM's llm_request span, checked as a real OTLP/HTTP
// receiver decoded it: the latency formulas from its timings, status, and
// where its parent comes from. (Its name: request_span_name_test.ts; bad
// input: request_span_input_test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { ROOT_CONTEXT, trace, type Tracer } from "@opentelemetry/api";
import { recordRequestSpan, traceHandler } from "../../mod.ts";
import type { OtlpReceiver, ReceivedSpan } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { withServer } from "../support/servers.ts";
import { requestIds, spanOfRequest } from "./request_span_support.ts";

const SERVER = 2;
const ERROR = 2;
const UNSET = 0;

let receiver: OtlpReceiver;
let tracer: Tracer;

useTracing("request-span-test", (t) => {
  receiver = t.receiver;
  tracer = t.tracer;
});

/** Flushes and waits (bounded) for the llm_request span of `requestId`. */
const spanOf = (requestId: string): Promise<ReceivedSpan> =>
  spanOfRequest(receiver, requestId);

const ms = (epochMs: number) => BigInt(epochMs) * 1_000_000n;
/** Equal up to floating-point noise of the subtraction (1 ns). */
function near(actual: unknown, expected: number, key: string): void {
  assert.equal(typeof actual, "number", `${key} is a number, got ${actual}`);
  assert.ok(
    Math.abs((actual as number) - expected) < 1e-9,
    `${key}: ${actual} !== ${expected}`,
  );
}

const rid = requestIds();

test("vLLM's formulas from known epoch-ms timings; name, kind, start and end", async () => {
  // Whole seconds at t0, so every moment is exact in ns.
  const t0 = 1_700_000_000_000;
  const id = rid("formulas");
  const ret = recordRequestSpan({
    requestId: id,
    model: "facebook/opt-125m",
    responseModel: "facebook/opt-125m-v2",
    promptTokens: 12,
    completionTokens: 30,
    cachedTokens: 4,
    temperature: 0.7,
    topP: 0.9,
    maxTokens: 64,
    n: 2,
    finishReasons: ["stop", "length"],
    timings: {
      arrival: t0,
      queued: t0 + 2,
      scheduled: t0 + 7,
      firstToken: t0 + 47,
      lastToken: t0 + 347,
      finished: t0 + 350,
    },
  });
  const s = await spanOf(id);
  assert.equal(s.name, "llm_request");
  assert.equal(s.kind, SERVER);
  assert.equal(s.startTimeUnixNano, ms(t0));
  assert.equal(s.endTimeUnixNano, ms(t0 + 350));
  assert.equal(s.spanId, ret.spanId);
  assert.equal(s.traceId, ret.traceId);
  assert.equal(s.parentSpanId, undefined, "no parent: a root span");
  assert.equal(s.status.code, UNSET);
  const a = s.attributes;
  near(a["gen_ai.latency.e2e"], 0.350, "e2e = finished - arrival");
  near(
    a["gen_ai.latency.time_to_first_token"],
    0.047,
    "ttft = firstToken - arrival",
  );
  // llm_request is a SERVER span: the client's time to first chunk is not its.
  assert.equal(a["gen_ai.response.time_to_first_chunk"], undefined);
  near(
    a["gen_ai.latency.time_in_queue"],
    0.005,
    "queue = scheduled - queued",
  );
  near(
    a["gen_ai.latency.time_in_model_prefill"],
    0.040,
    "prefill = firstToken - scheduled",
  );
  near(
    a["gen_ai.latency.time_in_model_decode"],
    0.300,
    "decode = lastToken - firstToken",
  );
  near(
    a["gen_ai.latency.time_in_model_inference"],
    0.340,
    "inference = lastToken - scheduled",
  );
  assert.equal(a["gen_ai.request.id"], id);
  assert.equal(a["gen_ai.operation.name"], "chat");
  assert.equal(a["gen_ai.request.model"], "facebook/opt-125m");
  assert.equal(a["gen_ai.response.model"], "facebook/opt-125m-v2");
  assert.equal(a["gen_ai.usage.input_tokens"], 12);
  assert.equal(a["gen_ai.usage.prompt_tokens"], 12);
  assert.equal(a["gen_ai.usage.output_tokens"], 30);
  assert.equal(a["gen_ai.usage.completion_tokens"], 30);
  assert.equal(s.attributeTypes["gen_ai.usage.output_tokens"], "int");
  assert.equal(a["gen_ai.usage.cache_read.input_tokens"], 4);
  assert.equal(a["gen_ai.request.temperature"], 0.7);
  assert.equal(a["gen_ai.request.top_p"], 0.9);
  assert.equal(a["gen_ai.request.max_tokens"], 64);
  assert.equal(a["gen_ai.request.n"], 2);
  assert.equal(a["gen_ai.request.choice.count"], 2);
  assert.deepEqual(a["gen_ai.response.finish_reasons"], ["stop", "length"]);
});

test("fractional ms across a second boundary, Date and bigint inputs: same formulas, exact start/end", async () => {
  const t0 = 1_700_000_000_900.5; // .9005 s past a whole second
  const id = rid("boundary");
  recordRequestSpan({
    requestId: id,
    timings: {
      arrival: t0,
      queued: new Date(1_700_000_000_901), // Date: whole ms
      scheduled: 1_700_000_000_950.25,
      firstToken: 1_700_000_001_047_500_000n, // bigint: epoch ns
      lastToken: t0 + 1100,
      finished: 1_700_000_002_100_000_000n,
    },
  });
  const s = await spanOf(id);
  assert.equal(s.startTimeUnixNano, 1_700_000_000_900_500_000n);
  assert.equal(s.endTimeUnixNano, 1_700_000_002_100_000_000n);
  const a = s.attributes;
  near(a["gen_ai.latency.e2e"], 1.1995, "e2e");
  near(a["gen_ai.latency.time_to_first_token"], 0.147, "ttft");
  near(a["gen_ai.latency.time_in_queue"], 0.04925, "queue");
  near(a["gen_ai.latency.time_in_model_prefill"], 0.09725, "prefill");
  near(a["gen_ai.latency.time_in_model_decode"], 0.953, "decode");
  near(a["gen_ai.latency.time_in_model_inference"], 1.05025, "inference");
});

test("a missing timestamp omits its attributes; inconsistent ones are never negative", async () => {
  const t0 = 1_700_000_100_000;
  // only arrival and finished
  const bare = rid("bare");
  recordRequestSpan({
    requestId: bare,
    timings: { arrival: t0, finished: t0 + 10 },
  });
  // no queued, no firstToken
  const partial = rid("partial");
  recordRequestSpan({
    requestId: partial,
    timings: {
      arrival: t0,
      scheduled: t0 + 3,
      lastToken: t0 + 8,
      finished: t0 + 9,
    },
  });
  // scheduled after the first token, queued after scheduled: inconsistent
  const skew = rid("skew");
  recordRequestSpan({
    requestId: skew,
    timings: {
      arrival: t0 + 5,
      queued: t0 + 30,
      scheduled: t0 + 20,
      firstToken: t0 + 10,
      lastToken: t0 + 15,
      finished: t0 + 40,
    },
  });
  // first token before arrival (another clock): no ttft
  const early = rid("early");
  recordRequestSpan({
    requestId: early,
    timings: { arrival: t0 + 5, firstToken: t0 + 1, finished: t0 + 6 },
  });

  const latencyKeys = [
    "gen_ai.latency.time_to_first_token",
    "gen_ai.response.time_to_first_chunk",
    "gen_ai.latency.time_in_queue",
    "gen_ai.latency.time_in_model_prefill",
    "gen_ai.latency.time_in_model_decode",
    "gen_ai.latency.time_in_model_inference",
  ];
  const b = await spanOf(bare);
  near(b.attributes["gen_ai.latency.e2e"], 0.01, "bare e2e");
  for (const k of latencyKeys) {
    assert.ok(!(k in b.attributes), `bare: ${k} should be absent`);
  }
  // no tokens, no sampling parameters either
  for (
    const k of [
      "gen_ai.usage.input_tokens",
      "gen_ai.usage.output_tokens",
      "gen_ai.request.temperature",
      "gen_ai.response.finish_reasons",
    ]
  ) assert.ok(!(k in b.attributes), `bare: ${k} should be absent`);

  const p = await spanOf(partial);
  near(
    p.attributes["gen_ai.latency.time_in_model_inference"],
    0.005,
    "inference",
  );
  for (
    const k of [
      "gen_ai.latency.time_in_queue",
      "gen_ai.latency.time_to_first_token",
      "gen_ai.latency.time_in_model_prefill",
      "gen_ai.latency.time_in_model_decode",
    ]
  ) assert.ok(!(k in p.attributes), `partial: ${k} should be absent`);

  const sk = await spanOf(skew);
  assert.ok(!("gen_ai.latency.time_in_queue" in sk.attributes));
  assert.ok(!("gen_ai.latency.time_in_model_prefill" in sk.attributes));
  assert.ok(!("gen_ai.latency.time_in_model_inference" in sk.attributes));
  near(sk.attributes["gen_ai.latency.time_in_model_decode"], 0.005, "decode");
  near(sk.attributes["gen_ai.latency.time_to_first_token"], 0.005, "ttft");

  const e = await spanOf(early);
  assert.ok(!("gen_ai.latency.time_to_first_token" in e.attributes));
  assert.ok(!("gen_ai.response.time_to_first_chunk" in e.attributes));

  for (const s of [b, p, sk, e]) {
    for (const [k, v] of Object.entries(s.attributes)) {
      if (k.startsWith("gen_ai.latency.") || k.includes("time_to_first")) {
        assert.ok((v as number) >= 0, `${k} = ${v} is negative`);
      }
    }
  }
});

test("temperature 0 is recorded", async () => {
  const id = rid("temp0");
  const t0 = 1_700_000_200_000;
  recordRequestSpan({
    requestId: id,
    temperature: 0,
    topP: 0,
    timings: { arrival: t0, finished: t0 + 1 },
  });
  const s = await spanOf(id);
  assert.ok("gen_ai.request.temperature" in s.attributes);
  assert.equal(s.attributes["gen_ai.request.temperature"], 0);
  assert.equal(s.attributes["gen_ai.request.top_p"], 0);
});

test("aborted: ERROR status and finish_reasons ['abort']", async () => {
  const id = rid("aborted");
  const t0 = 1_700_000_300_000;
  recordRequestSpan({
    requestId: id,
    aborted: true,
    finishReasons: ["stop"],
    completionTokens: 3,
    timings: { arrival: t0, firstToken: t0 + 5, finished: t0 + 9 },
  });
  const s = await spanOf(id);
  assert.equal(s.status.code, ERROR);
  assert.deepEqual(s.attributes["gen_ai.response.finish_reasons"], ["abort"]);
  assert.equal(s.attributes["error.type"], "aborted");
  assert.equal(s.attributes["gen_ai.usage.output_tokens"], 3);
  assert.equal(s.events.length, 0, "an abort is not an exception");
});

test("error: an exception event and ERROR status", async () => {
  const id = rid("error");
  const t0 = 1_700_000_400_000;
  recordRequestSpan({
    requestId: id,
    error: new RangeError("KV cache exhausted"),
    timings: { arrival: t0, finished: t0 + 20 },
  });
  const s = await spanOf(id);
  assert.equal(s.status.code, ERROR);
  assert.equal(s.status.message, "KV cache exhausted");
  assert.equal(s.attributes["error.type"], "RangeError");
  const ev = s.events.find((e) => e.name === "exception");
  assert.ok(ev, "exception event");
  assert.equal(ev.attributes["exception.type"], "RangeError");
  assert.equal(ev.attributes["exception.message"], "KV cache exhausted");
  assert.ok(
    ev.timeUnixNano >= s.startTimeUnixNano,
    "the event is within the span",
  );

  const id2 = rid("error-string");
  recordRequestSpan({
    requestId: id2,
    error: "engine died",
    timings: { arrival: t0, finished: t0 + 1 },
  });
  const s2 = await spanOf(id2);
  assert.equal(s2.status.code, ERROR);
  assert.equal(s2.attributes["error.type"], "_OTHER");
  assert.equal(
    s2.events.find((e) => e.name === "exception")?.attributes[
      "exception.message"
    ],
    "engine died",
  );
});

test("parent from `request` under traceHandler: child of the server span", async () => {
  const id = rid("under-handler");
  let returned: { traceId: string; spanId: string } | undefined;
  const handler = traceHandler((req: Request) => {
    const now = Date.now();
    returned = recordRequestSpan({
      requestId: id,
      request: req,
      timings: { arrival: now, finished: now },
    });
    return new Response("done");
  }, { route: "/engine-under-test" });
  await withServer(handler, async (server) => {
    const res = await fetch(`${server.origin}/engine-under-test`);
    assert.equal(await res.text(), "done");
  });
  const s = await spanOf(id);
  const all = await receiver.waitForSpans((x) =>
    x.some((y) => y.name === "GET /engine-under-test")
  );
  const srv = all.find((y) => y.name === "GET /engine-under-test")!;
  assert.equal(s.parentSpanId, srv.spanId);
  assert.equal(s.traceId, srv.traceId);
  assert.equal(returned?.spanId, s.spanId);
});

test("parent from traceHeaders (vLLM's trace_headers), and an explicit context wins", async () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parentId = "00f067aa0ba902b7";
  const t0 = 1_700_000_500_000;
  const id = rid("headers");
  recordRequestSpan({
    requestId: id,
    traceHeaders: {
      Traceparent: `00-${traceId}-${parentId}-01`,
      tracestate: "vendor=x",
    },
    timings: { arrival: t0, finished: t0 + 1 },
  });
  const s = await spanOf(id);
  assert.equal(s.traceId, traceId);
  assert.equal(s.parentSpanId, parentId);
  assert.equal(s.traceState, "vendor=x");

  // an explicit context beats the headers
  const parent = tracer.startSpan("explicit parent", {}, ROOT_CONTEXT);
  const id2 = rid("explicit");
  recordRequestSpan({
    requestId: id2,
    context: trace.setSpan(ROOT_CONTEXT, parent),
    traceHeaders: { traceparent: `00-${traceId}-${parentId}-01` },
    timings: { arrival: t0, finished: t0 + 1 },
  });
  parent.end();
  const s2 = await spanOf(id2);
  assert.equal(s2.parentSpanId, parent.spanContext().spanId);
  assert.equal(s2.traceId, parent.spanContext().traceId);

  // invalid headers: a new trace, no parent
  const id3 = rid("bad-headers");
  recordRequestSpan({
    requestId: id3,
    traceHeaders: { traceparent: `00-${traceId.toUpperCase()}-${parentId}-01` },
    timings: { arrival: t0, finished: t0 + 1 },
  });
  const s3 = await spanOf(id3);
  assert.equal(s3.parentSpanId, undefined);
  assert.notEqual(s3.traceId, traceId);
});
