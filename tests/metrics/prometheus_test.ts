// metricsHandler(): the same instruments in the Prometheus text format,
// parsed here by a small independent parser and checked against what was
// recorded and against the OTLP export of the same provider.
import { test } from "node:test";
import assert from "node:assert/strict";
import { flushMetrics, metricsHandler, shutdownMetrics } from "../../mod.ts";
import { BUCKETS } from "../../src/metrics/instruments.ts";
import { histograms, parsePrometheus } from "../support/prometheus_text.ts";
import { pointWith, report, withMetrics } from "../support/metrics.ts";

const get = (
  h: (r: Request) => Promise<Response>,
  path = "/metrics",
  method = "GET",
) => h(new Request(`http://127.0.0.1${path}`, { method }));

async function scrape(h: (r: Request) => Promise<Response>) {
  const res = await get(h);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(
    res.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  return parsePrometheus(await res.text());
}

test("before metrics start (and after they stop) the handler answers 503 with a clear text", async () => {
  const h = metricsHandler();
  const res = await get(h);
  assert.equal(res.status, 503);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
  assert.match(
    await res.text(),
    /metrics are not running: call initTracer\(\) or startMetrics\(\) first/,
  );
  await withMetrics({ OTEL_METRICS_EXPORTER: "none" }, {}, async () => {
    assert.equal((await get(h)).status, 200);
    await shutdownMetrics();
    assert.equal((await get(h)).status, 503);
  });
});

test("Prometheus only (OTEL_METRICS_EXPORTER=none): histograms as _bucket/_sum/_count, names and labels by the compatibility rules", async () => {
  const h = metricsHandler();
  await withMetrics({ OTEL_METRICS_EXPORTER: "none" }, {
    serviceName: "prom.test",
  }, async (rx) => {
    const odd = 'we"ird\\model\nname';
    report({
      kind: "server",
      durationS: 0.05,
      ttftS: 0.01,
      outputTokens: 3,
      operation: "chat",
      requestModel: odd,
    });
    report({
      kind: "server",
      durationS: 2,
      ttftS: 0.5,
      outputTokens: 11,
      operation: "chat",
      requestModel: odd,
    });
    report({
      kind: "engine",
      durationS: 0.9,
      queueS: 0.4,
      operation: "chat",
      requestModel: "m",
    });
    report({
      kind: "client",
      durationS: 0.3,
      inputTokens: 20,
      outputTokens: 7,
      operation: "chat",
      serverAddress: "up",
      serverPort: 9,
    });
    const f = await scrape(h);

    const duration = f.get("gen_ai_server_request_duration_seconds");
    assert.equal(duration?.type, "histogram");
    assert.equal(
      duration?.help,
      "Generative AI server request duration such as time-to-last byte or last output token.",
    );
    const series = histograms(duration!);
    assert.equal(series.length, 2);
    const s = series.find((x) => x.labels.gen_ai_request_model === odd);
    assert.ok(s, "label values are escaped and come back intact");
    assert.deepEqual(s.labels, {
      gen_ai_operation_name: "chat",
      gen_ai_provider_name: "unknown",
      gen_ai_request_model: odd,
      otel_scope_name: "llmtrace",
      otel_scope_version: "0.1.0",
    });
    assert.deepEqual(s.buckets.map(([le]) => le), [
      ...BUCKETS.duration,
      Infinity,
    ]);
    // cumulative: 0.05 is <= 0.08, 2 is <= 2.56
    assert.deepEqual(
      s.buckets.map(([, n]) => n),
      BUCKETS.duration.map((b) => (b >= 0.05 ? 1 : 0) + (b >= 2 ? 1 : 0))
        .concat(2),
    );
    assert.equal(s.count, 2);
    assert.ok(Math.abs(s.sum - 2.05) < 1e-9);

    const tpot = histograms(
      f.get("gen_ai_server_time_per_output_token_seconds")!,
    );
    assert.ok(Math.abs(tpot[0].sum - (0.04 / 2 + 1.5 / 10)) < 1e-9);
    assert.equal(tpot[0].count, 2);

    const queue = histograms(f.get("vllm_request_queue_time_seconds")!);
    assert.deepEqual(queue[0].buckets.map(([le]) => le), [
      ...BUCKETS.vllmLatency,
      Infinity,
    ]);
    assert.equal(queue[0].sum, 0.4);
    assert.equal(f.get("vllm_e2e_request_latency_seconds")?.type, "histogram");

    // {token} is an annotation: no unit suffix.
    const usage = histograms(f.get("gen_ai_client_token_usage")!);
    const input = usage.find((x) => x.labels.gen_ai_token_type === "input");
    assert.equal(input?.sum, 20);
    assert.equal(input?.labels.server_address, "up");
    assert.equal(input?.labels.server_port, "9");
    assert.equal(
      f.get("gen_ai_client_operation_duration_seconds")?.type,
      "histogram",
    );

    const target = f.get("target_info");
    assert.equal(target?.type, "gauge");
    assert.equal(target?.samples[0].labels.service_name, "prom.test");
    assert.equal(target?.samples[0].value, 1);

    assert.equal(rx.requests().length, 0, "nothing pushed");
  });
});

test("the scrape and the OTLP export read the same instruments", async () => {
  const h = metricsHandler();
  await withMetrics({}, {}, async (rx) => {
    for (const d of [0.011, 0.25, 0.25, 7, 100]) {
      report({
        kind: "server",
        durationS: d,
        ttftS: d / 10,
        operation: "text_completion",
      });
    }
    await flushMetrics();
    const otlp = pointWith(rx.latest("gen_ai.server.request.duration"), {
      "gen_ai.operation.name": "text_completion",
      "gen_ai.provider.name": "unknown",
    });
    const [prom] = histograms(
      (await scrape(h)).get("gen_ai_server_request_duration_seconds")!,
    );
    assert.equal(prom.count, otlp.count);
    assert.equal(prom.sum, otlp.sum);
    let cumulative = 0;
    const fromOtlp = otlp.bucketCounts!.map((c) => (cumulative += c));
    assert.deepEqual(prom.buckets.map(([, n]) => n), fromOtlp);
    assert.deepEqual(prom.buckets.map(([le]) => le), [
      ...otlp.explicitBounds!,
      Infinity,
    ]);
  });
});

test("a handler made after metrics started attaches its reader; what came before still reaches OTLP", async () => {
  await withMetrics({}, {}, async (rx) => {
    report({ kind: "server", durationS: 0.1, operation: "chat" });
    const h = metricsHandler();
    report({ kind: "server", durationS: 0.2, operation: "chat" });
    await flushMetrics();
    const sums = rx.exports().flatMap((e) =>
      e.metrics.filter((m) => m.name === "gen_ai.server.request.duration")
        .map((m) => m.points[0].sum)
    );
    assert.deepEqual(sums.sort(), [0.1, 0.2], "before and after the rebuild");
    const [prom] = histograms(
      (await scrape(h)).get("gen_ai_server_request_duration_seconds")!,
    );
    assert.equal(prom.count, 1);
    assert.equal(prom.sum, 0.2);
  });
});

test("HEAD, other methods, and the path option", async () => {
  const any = metricsHandler();
  const only = metricsHandler({ path: "/metrics" });
  await withMetrics({ OTEL_METRICS_EXPORTER: "prometheus" }, {}, async () => {
    const head = await get(any, "/x", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const post = await get(any, "/metrics", "POST");
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    assert.equal((await get(only, "/other")).status, 404);
    assert.equal((await get(only, "/metrics")).status, 200);
  });
});
