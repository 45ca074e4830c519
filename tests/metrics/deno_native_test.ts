// Deno's built-in OpenTelemetry (OTEL_DENO=true) owns the global API:
// startMetrics records llmtrace's instruments on Deno's meter (DOUBLE
// histograms with the conventions' bucket advice), Deno exports them, and
// metricsHandler() says why it cannot serve them. The test spawns the pinned
// deno binary, so it runs under both test runners.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { waitForExit } from "../support/helpers.ts";
import { BUCKETS } from "../../src/metrics/instruments.ts";
import {
  assertHistogram,
  CLEAN_METRICS_ENV,
  pointWith,
} from "../support/metrics.ts";
import { startOtlpMetricsReceiver } from "../support/otlp_metrics.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("OTEL_DENO=true: the instruments live on Deno's meter and Deno exports them", async () => {
  const rx = await startOtlpMetricsReceiver();
  try {
    const env: Record<string, string> = { NO_COLOR: "1" };
    for (
      const [k, v] of Object.entries({ ...process.env, ...CLEAN_METRICS_ENV })
    ) {
      if (v !== undefined) env[k] = v;
    }
    Object.assign(env, {
      OTEL_DENO: "true",
      OTEL_DENO_CONSOLE: "ignore",
      OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    });
    const child = spawn(
      `${root}node_modules/.bin/deno`,
      ["run", "-A", "--unstable-otel", "tests/fixtures/metrics_native.ts"],
      { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    const r = await waitForExit(child, 30_000, "metrics_native.ts");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assert.equal(out.enabled, true);
    assert.equal(out.sink, true);
    assert.equal(out.status, 503);
    assert.match(out.text, /recorded through Deno's built-in OpenTelemetry/);

    await rx.waitFor(
      () => rx.latest("gen_ai.server.request.duration") !== undefined,
      10_000,
    );
    const attrs = {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "unknown",
      "gen_ai.request.model": "native-model",
    };
    const duration = rx.latest("gen_ai.server.request.duration");
    assert.equal(duration?.unit, "s");
    assertHistogram(pointWith(duration, attrs), BUCKETS.duration, [0.75]);
    assertHistogram(
      pointWith(rx.latest("gen_ai.server.time_to_first_token"), attrs),
      BUCKETS.ttft,
      [0.05],
    );
    assertHistogram(
      pointWith(rx.latest("gen_ai.server.time_per_output_token"), attrs),
      BUCKETS.tpot,
      [0.7 / 3],
    );
    const resource = duration!.resource;
    assert.notEqual(
      resource["service.name"],
      "test.metrics_native",
      "Deno's resource, not llmtrace's",
    );
  } finally {
    await rx.close();
  }
});
