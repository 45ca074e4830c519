// OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental: the client
// metrics of the latest semantic-conventions-genai (#374, #521) instead of
// the v1.41.0 ones; server and vLLM metrics unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { flushMetrics, metricsHandler } from "../../mod.ts";
import { BUCKETS } from "../../src/metrics/instruments.ts";
import {
  assertHistogram,
  pointWith,
  report,
  withMetrics,
} from "../support/metrics.ts";
import { histograms, parsePrometheus } from "../support/prometheus_text.ts";

const LATEST = {
  OTEL_SEMCONV_STABILITY_OPT_IN: "http, gen_ai_latest_experimental",
};
const BASE = {
  "gen_ai.operation.name": "chat",
  "gen_ai.provider.name": "openai",
  "gen_ai.request.model": "m",
};

test("inference: gen_ai.client.inference.* histograms and usage counters by modality", async () => {
  const h = metricsHandler();
  await withMetrics(LATEST, {}, async (rx) => {
    const call = {
      kind: "client",
      operation: "chat",
      provider: "openai",
      requestModel: "m",
    } as const;
    report({
      ...call,
      durationS: 0.8,
      ttftS: 0.1,
      inputTokens: 100,
      outputTokens: 20,
      cacheReadInputTokens: 64,
    });
    report({ ...call, durationS: 0.2, inputTokens: 50, outputTokens: 5 });
    report({ ...call, durationS: 0.05, errorType: "timeout" }); // no usage came back
    report({
      kind: "client",
      operation: "embeddings",
      provider: "openai",
      durationS: 0.03,
      inputTokens: 8,
    });
    report({ kind: "server", operation: "chat", durationS: 1 });
    await flushMetrics();

    const failed = { ...BASE, "error.type": "timeout" };
    const duration = rx.latest("gen_ai.client.inference.duration");
    assert.equal(duration?.unit, "s");
    assertHistogram(pointWith(duration, BASE), BUCKETS.duration, [0.8, 0.2]);
    assertHistogram(pointWith(duration, failed), BUCKETS.duration, [0.05]);
    assertHistogram(
      pointWith(rx.latest("gen_ai.client.inference.time_to_first_chunk"), BASE),
      BUCKETS.duration,
      [0.1],
    );

    const input = rx.latest("gen_ai.client.inference.operation.input_tokens");
    assert.equal(input?.unit, "{token}");
    assertHistogram(pointWith(input, BASE), BUCKETS.tokens, [100, 50]);
    assertHistogram(pointWith(input, failed), BUCKETS.tokens, [0]);
    assertHistogram(
      pointWith(
        rx.latest("gen_ai.client.inference.operation.output_tokens"),
        BASE,
      ),
      BUCKETS.tokens,
      [20, 5],
    );

    const modality = { ...BASE, "gen_ai.token.modality": "unknown" };
    for (
      const [name, total] of [
        ["gen_ai.client.inference.usage.input_tokens", 150],
        ["gen_ai.client.inference.usage.output_tokens", 25],
        ["gen_ai.client.inference.usage.cache_read.input_tokens", 64],
      ] as const
    ) {
      const m = rx.latest(name);
      assert.equal(m?.type, "sum", name);
      assert.equal(m?.isMonotonic, true, name);
      assert.equal(m?.unit, "{token}", name);
      assert.equal(m?.temporality, "cumulative", name);
      const p = pointWith(m, modality);
      assert.equal(p.value, total, name);
      assert.equal(p.valueType, "double", `${name}: recorded as DOUBLE`);
    }

    // Not inference: the operation duration stays, token metrics do not apply.
    assertHistogram(
      pointWith(rx.latest("gen_ai.client.operation.duration"), {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "openai",
      }),
      BUCKETS.duration,
      [0.03],
    );
    assert.equal(
      rx.latest("gen_ai.client.token.usage"),
      undefined,
      "removed by #374",
    );
    assert.equal(
      rx.latest("gen_ai.client.operation.time_to_first_chunk"),
      undefined,
    );
    assert.equal(rx.latest("gen_ai.server.request.duration")?.points[0].sum, 1);

    // Counters scrape as _total.
    const text = await (await h(new Request("http://x/metrics"))).text();
    const f = parsePrometheus(text);
    const usage = f.get("gen_ai_client_inference_usage_input_tokens_total");
    assert.equal(usage?.type, "counter");
    assert.equal(
      usage?.samples.find((s) => s.labels.gen_ai_provider_name === "openai")
        ?.value,
      150,
    );
    assert.equal(
      histograms(f.get("gen_ai_client_inference_duration_seconds")!).length,
      2,
    );
  });
});
