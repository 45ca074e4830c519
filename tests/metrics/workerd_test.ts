// Cloudflare workerd: tests/fixtures/workerd/metrics_worker.ts is bundled
// with esbuild (one ESM file, platform "browser", no nodejs_compat), served
// by a real `workerd serve` on a loopback port; its metrics reach the OTLP
// metrics receiver through ctx.waitUntil(flushMetrics()) and are scraped
// through metricsHandler().
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitForExit } from "../support/helpers.ts";
import { BUCKETS } from "../../src/metrics/instruments.ts";
import { assertHistogram, pointWith } from "../support/metrics.ts";
import { startOtlpMetricsReceiver } from "../support/otlp_metrics.ts";
import { histograms, parsePrometheus } from "../support/prometheus_text.ts";
import { deadPort } from "../support/servers.ts";
import { stopChild, waitUntilServing } from "../support/child_servers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixtures = join(root, "tests", "fixtures", "workerd");
const WORKERD = join(root, "node_modules", ".bin", "workerd");
const ESBUILD = join(root, "node_modules", ".bin", "esbuild");

function unavailable(): string | undefined {
  const r = spawnSync(WORKERD, ["--version"], {
    timeout: 15_000,
    encoding: "utf8",
  });
  if (r.error) return `workerd cannot start: ${r.error.message}`;
  return r.status === 0 ? undefined : `workerd --version exited ${r.status}`;
}
const skip = unavailable();

test(
  "workerd: metrics flushed through waitUntil arrive; metricsHandler scrapes them",
  { skip },
  async () => {
    const rx = await startOtlpMetricsReceiver();
    const dir = mkdtempSync(join(tmpdir(), "llmtrace-metrics-workerd-"));
    let child: ChildProcess | undefined;
    let log = "";
    try {
      const build = spawn(ESBUILD, [
        join(fixtures, "metrics_worker.ts"),
        "--bundle",
        "--format=esm",
        "--platform=browser",
        "--target=es2022",
        "--log-level=warning",
        `--outfile=${join(dir, "worker.js")}`,
      ], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
      const built = await waitForExit(build, 60_000, "esbuild");
      assert.equal(built.code, 0, built.stderr);
      const port = await deadPort();
      writeFileSync(
        join(dir, "config.capnp"),
        readFileSync(join(fixtures, "config.capnp.template"), "utf8")
          .replaceAll("@PORT@", String(port))
          .replaceAll("@COMPAT_DATE@", "2025-09-01")
          .replaceAll("@OTLP_ENDPOINT@", rx.url)
          .replaceAll("@UPSTREAM_URL@", "http://127.0.0.1:9"),
      );
      child = spawn(WORKERD, ["serve", join(dir, "config.capnp")], {
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout?.on("data", (d) => (log += d));
      child.stderr?.on("data", (d) => (log += d));
      const base = `http://127.0.0.1:${port}`;
      await waitUntilServing(child, `${base}/health`, () => log);

      for (const [d, ttft] of [[0.4, 0.1], [1.5, 0.3]]) {
        const r = await fetch(`${base}/record?d=${d}&ttft=${ttft}`);
        assert.equal(await r.text(), "recorded", log);
      }
      await rx.waitFor(
        () =>
          rx.latest("gen_ai.server.request.duration")?.points[0].count === 2,
        10_000,
      )
        .catch((e) => {
          throw new Error(`${e.message}\n${log}`);
        });
      const attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "unknown",
        "gen_ai.request.model": "edge-model",
      };
      const duration = rx.latest("gen_ai.server.request.duration");
      assertHistogram(pointWith(duration, attrs), BUCKETS.duration, [0.4, 1.5]);
      assertHistogram(
        pointWith(rx.latest("gen_ai.server.time_to_first_token"), attrs),
        BUCKETS.ttft,
        [0.1, 0.3],
      );
      assert.equal(duration!.resource["service.name"], "workerd.metrics");
      assert.equal(duration!.resource["process.runtime.name"], "workerd");

      const res = await fetch(`${base}/metrics`);
      assert.equal(
        res.headers.get("content-type"),
        "text/plain; version=0.0.4; charset=utf-8",
      );
      const [s] = histograms(
        parsePrometheus(await res.text()).get(
          "gen_ai_server_request_duration_seconds",
        )!,
      );
      assert.equal(s.count, 2);
      assert.ok(Math.abs(s.sum - 1.9) < 1e-9);
    } finally {
      if (child) await stopChild(child);
      await rx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
