// OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental: the client
// metrics of the latest semantic-conventions-genai (#374, #521) instead of
// the v1.41.0 ones; server and vLLM metrics unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  flushMetrics,
  metricsHandler,
  tracedFetch,
  traceHandler,
} from "../../mod.ts";
import { ChunkGaps } from "../../src/core/chunk_gaps.ts";
import { createFakeLlm } from "../support/fake_llm.ts";
import { withServer } from "../support/servers.ts";
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
      cacheWriteInputTokens: 30,
      reasoningOutputTokens: 12,
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
        ["gen_ai.client.inference.usage.cache_write.input_tokens", 30],
        ["gen_ai.client.inference.usage.reasoning.output_tokens", 12],
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

test("ChunkGaps.replay keeps every bucket's count, the sum, min and max of the gaps it aggregated", () => {
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 0x7fffffff) / 0x7fffffff;
  for (const n of [1, 2, 3, 17, 500]) {
    const values = Array.from({ length: n }, (_, i) =>
      // spread over several buckets, with values on a boundary too
      i % 11 === 0 ? 0.04 : random() ** 3 * 3);
    const gaps = new ChunkGaps();
    for (const v of values) gaps.add(v);
    gaps.add(-1); // skipped
    gaps.add(NaN); // skipped
    const replayed: number[] = [];
    gaps.replay((v) => replayed.push(v));
    assert.equal(gaps.count, n);
    assert.equal(replayed.length, n);
    assert.deepEqual(
      expectedBucketCounts(replayed),
      expectedBucketCounts(values),
      `bucket counts, n=${n}`,
    );
    assert.equal(Math.min(...replayed), Math.min(...values));
    assert.equal(Math.max(...replayed), Math.max(...values));
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    assert.ok(Math.abs(sum(replayed) - sum(values)) < 1e-9, `sum n=${n}`);
  }
});

function expectedBucketCounts(values: number[]): number[] {
  const counts = new Array(BUCKETS.duration.length + 1).fill(0);
  for (const v of values) {
    let i = 0;
    while (i < BUCKETS.duration.length && v > BUCKETS.duration[i]) i++;
    counts[i]++;
  }
  return counts;
}

test("a streamed call through tracedFetch: time_per_output_chunk gets the gaps between chunks after the first", async () => {
  await withMetrics(LATEST, {}, async (rx) => {
    const pieces = ["a", "b", "c", "d", "e", "f"];
    const delayMs = 25;
    const llm = createFakeLlm({ pieces, delayMs });
    await withServer(llm.handler, async (engine) => {
      const router = traceHandler(async (req: Request) =>
        await tracedFetch(`${engine.origin}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: await req.text(),
        }, { request: req, providerName: "vllm" })
      );
      await withServer(router, async (r) => {
        const res = await fetch(`${r.origin}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "m",
            stream: true,
            messages: [{ role: "user", content: "hi" }],
          }),
        });
        assert.match(await res.text(), /DONE/);
        for (let i = 0; i < 100; i++) {
          await flushMetrics();
          if (rx.latest("gen_ai.client.inference.time_per_output_chunk")) break;
          await new Promise((res) => setTimeout(res, 20));
        }
        const tpoc = rx.latest("gen_ai.client.inference.time_per_output_chunk");
        assert.equal(tpoc?.unit, "s");
        assert.equal(tpoc.points.length, 1);
        const p = tpoc.points[0];
        assert.equal(p.attributes["gen_ai.provider.name"], "vllm");
        assert.deepEqual(p.explicitBounds, [...BUCKETS.duration]);
        // After the first content: 5 more pieces, the finish and [DONE], each
        // one delay apart; reads may join events, never split the delays.
        assert.ok(
          p.count! >= pieces.length - 1 && p.count! <= 8,
          `count ${p.count}`,
        );
        const paced = ((pieces.length - 1) * delayMs) / 1000;
        assert.ok(p.sum! >= paced * 0.9, `sum ${p.sum} < ${paced}`);
        const duration =
          rx.latest("gen_ai.client.inference.duration")!.points[0];
        const ttfc = rx.latest("gen_ai.client.inference.time_to_first_chunk")!
          .points[0];
        // The gaps fit between the first chunk and the end of the call.
        assert.ok(p.sum! <= duration.sum! - ttfc.sum! + 0.002, `${p.sum}`);
        assert.ok(p.min! >= 0 && p.max! <= duration.sum!);
        // Only the client records it: no server-side counterpart here.
        assert.equal(
          rx.latest("gen_ai.server.request.duration"),
          undefined,
          "the router forwarded: no server metrics",
        );
      });
    });
  });
});
