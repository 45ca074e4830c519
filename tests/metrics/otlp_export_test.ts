// Measurements in, OTLP out: names, units, bucket boundaries, counts, sums
// and attributes as the GenAI metric conventions give them, decoded by the
// test's own receiver; one request counted once when traceHandler and
// recordRequestSpan both report it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { flushMetrics } from "../../mod.ts";
import { BUCKETS } from "../../src/metrics/instruments.ts";
import {
  assertHistogram,
  pointWith,
  report,
  withMetrics,
} from "../support/metrics.ts";

const ENGINE = {
  "gen_ai.operation.name": "chat",
  "gen_ai.provider.name": "vllm",
  "gen_ai.request.model": "m1",
  "gen_ai.response.model": "m1-resp",
};
const SERVER = {
  "gen_ai.operation.name": "chat",
  "gen_ai.provider.name": "unknown",
  "server.address": "127.0.0.1",
  "server.port": 8000,
};
const FAILED = {
  "gen_ai.operation.name": "chat",
  "gen_ai.provider.name": "unknown",
  "error.type": "500",
};
const CLIENT = {
  "gen_ai.operation.name": "chat",
  "gen_ai.provider.name": "openai",
  "gen_ai.request.model": "m1",
  "server.address": "upstream.local",
  "server.port": 8001,
};

function reportAll(): void {
  const request = {}; // one request seen by both the engine and traceHandler
  report({
    kind: "engine",
    durationS: 0.5,
    ttftS: 0.05,
    queueS: 0.01,
    prefillS: 0.04,
    decodeS: 0.45,
    inferenceS: 0.49,
    inputTokens: 13,
    outputTokens: 10,
    operation: "chat",
    provider: "vllm",
    requestModel: "m1",
    responseModel: "m1-resp",
    requestKey: request,
  });
  report({
    kind: "server",
    durationS: 0.52,
    ttftS: 0.06,
    outputTokens: 10,
    operation: "chat",
    provider: "vllm",
    requestModel: "m1",
    responseModel: "m1-resp",
    requestKey: request,
  });
  const server = {
    operation: "chat",
    serverAddress: "127.0.0.1",
    serverPort: 8000,
  };
  report({
    kind: "server",
    durationS: 1.0,
    ttftS: 0.2,
    outputTokens: 5,
    ...server,
  });
  report({
    kind: "server",
    durationS: 0.1,
    ttftS: 0.1,
    outputTokens: 1,
    ...server,
  });
  report({
    kind: "server",
    durationS: 0.3,
    ttftS: 0.1,
    operation: "chat",
    errorType: "500",
  });
  report({
    kind: "client",
    durationS: 0.6,
    ttftS: 0.07,
    inputTokens: 13,
    outputTokens: 10,
    operation: "chat",
    provider: "openai",
    requestModel: "m1",
    serverAddress: "upstream.local",
    serverPort: 8001,
  });
  report({
    kind: "client",
    durationS: 0.05,
    operation: "chat",
    errorType: "TypeError",
  });
}

test("server, engine and client measurements arrive as the GenAI histograms", async () => {
  await withMetrics({}, { serviceName: "metrics.test" }, async (rx) => {
    reportAll();
    await flushMetrics();
    assert.equal(rx.exports().length, 1, "one export per flush");

    const duration = rx.latest("gen_ai.server.request.duration");
    assert.equal(duration?.type, "histogram");
    assert.equal(duration?.unit, "s");
    assert.equal(duration?.temporality, "cumulative");
    assert.equal(
      duration?.description,
      "Generative AI server request duration such as time-to-last byte or last output token.",
    );
    assert.equal(duration?.points.length, 3);
    assertHistogram(pointWith(duration, ENGINE), BUCKETS.duration, [0.5]);
    assertHistogram(pointWith(duration, SERVER), BUCKETS.duration, [1.0, 0.1]);
    assertHistogram(pointWith(duration, FAILED), BUCKETS.duration, [0.3]);
    assert.equal(
      pointWith(duration, SERVER).attributeTypes["server.port"],
      "int",
    );

    const ttft = rx.latest("gen_ai.server.time_to_first_token");
    assert.equal(ttft?.unit, "s");
    assert.equal(ttft?.points.length, 2, "no TTFT for the failed request");
    assertHistogram(pointWith(ttft, ENGINE), BUCKETS.ttft, [0.05]);
    assertHistogram(pointWith(ttft, SERVER), BUCKETS.ttft, [0.2, 0.1]);

    const tpot = rx.latest("gen_ai.server.time_per_output_token");
    assert.equal(tpot?.unit, "s");
    // engine: (0.5 - 0.05) / 9; server: (1.0 - 0.2) / 4; one token: none
    assertHistogram(pointWith(tpot, ENGINE), BUCKETS.tpot, [0.45 / 9]);
    assertHistogram(pointWith(tpot, SERVER), BUCKETS.tpot, [0.2]);

    for (
      const [name, value] of [
        ["vllm.request.queue_time", 0.01],
        ["vllm.request.prefill_time", 0.04],
        ["vllm.request.decode_time", 0.45],
        ["vllm.request.inference_time", 0.49],
        ["vllm.e2e_request_latency", 0.5],
      ] as const
    ) {
      const m = rx.latest(name);
      assert.equal(m?.unit, "s", name);
      assert.equal(m?.points.length, 1, name);
      assertHistogram(pointWith(m, ENGINE), BUCKETS.vllmLatency, [value]);
    }

    const op = rx.latest("gen_ai.client.operation.duration");
    assert.equal(op?.unit, "s");
    assertHistogram(pointWith(op, CLIENT), BUCKETS.duration, [0.6]);
    assertHistogram(
      pointWith(op, {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "unknown",
        "error.type": "TypeError",
      }),
      BUCKETS.duration,
      [0.05],
    );

    const usage = rx.latest("gen_ai.client.token.usage");
    assert.equal(usage?.unit, "{token}");
    assert.equal(usage?.points.length, 2, "no usage without token counts");
    assertHistogram(
      pointWith(usage, { ...CLIENT, "gen_ai.token.type": "input" }),
      BUCKETS.tokens,
      [13],
    );
    assertHistogram(
      pointWith(usage, { ...CLIENT, "gen_ai.token.type": "output" }),
      BUCKETS.tokens,
      [10],
    );

    const ttfc = rx.latest("gen_ai.client.operation.time_to_first_chunk");
    assertHistogram(pointWith(ttfc, CLIENT), BUCKETS.duration, [0.07]);

    // The latest conventions' names stay out of the default mode.
    assert.equal(rx.latest("gen_ai.client.inference.duration"), undefined);

    const resource = duration!.resource;
    assert.equal(resource["service.name"], "metrics.test");
    assert.equal(typeof resource["service.instance.id"], "string");
    assert.ok(resource["process.runtime.name"]);
    assert.deepEqual(duration!.scope, { name: "llmtrace", version: "0.1.0" });
  });
});

test("a later flush carries the cumulative totals of the same streams", async () => {
  await withMetrics({}, {}, async (rx) => {
    report({ kind: "server", durationS: 0.2, operation: "chat" });
    await flushMetrics();
    report({ kind: "server", durationS: 0.4, operation: "chat" });
    report({ kind: "server", durationS: 3, operation: "chat" });
    await flushMetrics();
    const [first, second] = rx.exports().map((e) =>
      e.metrics.find((m) => m.name === "gen_ai.server.request.duration")!
        .points[0]
    );
    assert.equal(first.count, 1);
    assertHistogram(second, BUCKETS.duration, [0.2, 0.4, 3]);
    assert.equal(second.startTimeUnixNano, first.startTimeUnixNano);
    assert.ok(second.timeUnixNano >= first.timeUnixNano);
  });
});

test("one request reported by the server and then the engine counts once, the server's", async () => {
  await withMetrics({}, {}, async (rx) => {
    const request = {};
    const common = {
      operation: "chat",
      requestModel: "m",
      requestKey: request,
    };
    report({ kind: "server", durationS: 0.7, ttftS: 0.3, ...common });
    report({
      kind: "engine",
      durationS: 0.6,
      ttftS: 0.2,
      queueS: 0.1,
      ...common,
    });
    // A second request without a key always counts.
    report({
      kind: "engine",
      durationS: 0.9,
      operation: "chat",
      requestModel: "m",
    });
    await flushMetrics();
    const attrs = {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "unknown",
      "gen_ai.request.model": "m",
    };
    assertHistogram(
      pointWith(rx.latest("gen_ai.server.request.duration"), attrs),
      BUCKETS.duration,
      [0.7, 0.9],
    );
    assertHistogram(
      pointWith(rx.latest("gen_ai.server.time_to_first_token"), attrs),
      BUCKETS.ttft,
      [0.3],
    );
    // The engine's breakdown is recorded whichever came first.
    assertHistogram(
      pointWith(rx.latest("vllm.request.queue_time"), attrs),
      BUCKETS.vllmLatency,
      [0.1],
    );
    assertHistogram(
      pointWith(rx.latest("vllm.e2e_request_latency"), attrs),
      BUCKETS.vllmLatency,
      [0.6, 0.9],
    );
  });
});

test("bad values are skipped, never thrown: NaN, negative, infinite", async () => {
  await withMetrics({}, {}, async (rx) => {
    report({ kind: "server", durationS: NaN, ttftS: -1, operation: "chat" });
    report({
      kind: "engine",
      durationS: Infinity,
      queueS: -0.5,
      operation: "chat",
    });
    report({
      kind: "client",
      durationS: 0.1,
      inputTokens: NaN,
      operation: "chat",
    });
    await flushMetrics();
    assert.equal(rx.latest("gen_ai.server.request.duration"), undefined);
    assert.equal(rx.latest("vllm.request.queue_time"), undefined);
    assert.equal(rx.latest("gen_ai.client.token.usage"), undefined);
    assert.equal(
      rx.latest("gen_ai.client.operation.duration")?.points[0].count,
      1,
    );
  });
});
