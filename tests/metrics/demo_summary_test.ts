// The demo's TTFT / TPOT summary, from a real metricsHandler() scrape:
// means from _sum/_count, quantiles interpolated in the buckets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { metricsHandler } from "../../mod.ts";
import { summarizeMetrics } from "../../examples/metrics_summary.ts";
import { palette } from "../../examples/waterfall.ts";
import { report, withMetrics } from "../support/metrics.ts";

test("the demo summary shows count, mean and interpolated p50/p95 per series", async () => {
  const h = metricsHandler();
  await withMetrics({ OTEL_METRICS_EXPORTER: "none" }, {}, async () => {
    const none = summarizeMetrics(
      await (await h(new Request("http://x/"))).text(),
      palette(false),
    );
    assert.deepEqual(none, ["no TTFT / TPOT measurements were recorded"]);
    for (const ttftS of [0.1, 0.2]) {
      report({
        kind: "engine",
        durationS: ttftS + 0.9,
        ttftS,
        outputTokens: 10,
        operation: "chat",
        requestModel: "demo-7b",
      });
    }
    const lines = summarizeMetrics(
      await (await h(new Request("http://x/"))).text(),
      palette(false),
    );
    const ttft = lines.find((l) => l.trim().startsWith("TTFT"));
    assert.match(
      ttft ?? "",
      /TTFT llm_request \(engine\) +2 × mean +150\.0 ms · p50 ≈ +100\.0 ms · p95 ≈ +235\.0 ms/,
      lines.join("\n"),
    );
    const tpot = lines.find((l) => l.trim().startsWith("TPOT"));
    assert.match(tpot ?? "", /2 × mean +100\.0 ms/); // 0.9 s over 9 tokens
  });
});
