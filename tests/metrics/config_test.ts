// OTEL_* variables for metrics: exporter selection, endpoint rules, headers,
// interval, temporality; bad values give an error or a warning naming them.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  flushMetrics,
  isMetricsEnabled,
  shutdownMetrics,
  startMetrics,
} from "../../mod.ts";
import { measurementSink } from "../../src/core/measurement_sink.ts";
import { resolveMetricsConfig } from "../../src/metrics/config.ts";
import { captureWarnings, withEnv } from "../support/helpers.ts";
import { CLEAN_METRICS_ENV, report, withMetrics } from "../support/metrics.ts";

const env = (vars: Record<string, string>) => ({
  ...CLEAN_METRICS_ENV,
  ...vars,
});

test("defaults: OTLP push to localhost:4318/v1/metrics every 60 s, cumulative", async () => {
  await withEnv(CLEAN_METRICS_ENV, () => {
    const c = resolveMetricsConfig();
    assert.equal(c.otlp, true);
    assert.equal(c.prometheus, false);
    assert.equal(c.url, "http://localhost:4318/v1/metrics");
    assert.equal(c.intervalMillis, 60_000);
    assert.equal(c.exportTimeoutMillis, 30_000);
    assert.equal(c.timeoutMillis, 10_000);
    assert.equal(c.temporality, "cumulative");
  });
});

test("endpoint: METRICS variable as is, else the base + /v1/metrics, explicit wins", async () => {
  await withEnv(
    env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }),
    () => {
      assert.equal(
        resolveMetricsConfig().url,
        "http://collector:4318/v1/metrics",
      );
    },
  );
  await withEnv(
    env({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://metrics:9999/custom",
    }),
    () => {
      assert.equal(resolveMetricsConfig().url, "http://metrics:9999/custom");
      assert.equal(
        resolveMetricsConfig({ endpoint: "http://explicit:1/v1/metrics" }).url,
        "http://explicit:1/v1/metrics",
      );
    },
  );
});

test("headers and timeouts: the METRICS variables win over the generic ones", async () => {
  await withEnv(
    env({
      OTEL_EXPORTER_OTLP_HEADERS: "a=1,b=2",
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: "b=3,api-key=x%20y",
      OTEL_EXPORTER_OTLP_TIMEOUT: "2000",
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: "1500",
      OTEL_METRIC_EXPORT_INTERVAL: "1000",
      OTEL_METRIC_EXPORT_TIMEOUT: "5000",
    }),
    () => {
      const c = resolveMetricsConfig();
      assert.deepEqual(c.headers, { a: "1", b: "3", "api-key": "x y" });
      assert.equal(c.timeoutMillis, 1500);
      assert.equal(c.intervalMillis, 1000);
      assert.equal(c.exportTimeoutMillis, 1000, "clamped to the interval");
    },
  );
});

test("OTEL_METRICS_EXPORTER: otlp, prometheus, console, none, lists, case; a console protocol prints", async () => {
  const cases: [Record<string, string>, boolean, boolean, boolean][] = [
    [{ OTEL_METRICS_EXPORTER: "otlp" }, true, false, false],
    [{ OTEL_METRICS_EXPORTER: "prometheus" }, false, true, false],
    [{ OTEL_METRICS_EXPORTER: "otlp,prometheus" }, true, true, false],
    [{ OTEL_METRICS_EXPORTER: " OTLP , Prometheus " }, true, true, false],
    [{ OTEL_METRICS_EXPORTER: "console" }, false, false, true],
    [{ OTEL_METRICS_EXPORTER: "otlp,Console" }, true, false, true],
    [{ OTEL_METRICS_EXPORTER: "none" }, false, false, false],
    [{ OTEL_METRICS_EXPORTER: "otlp,none" }, false, false, false],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: "console" }, false, false, true],
    [{ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "console" }, false, false, true],
    [
      {
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/protobuf",
        OTEL_EXPORTER_OTLP_PROTOCOL: "console",
      },
      true,
      false,
      false,
    ],
  ];
  for (const [vars, otlp, prometheus, console] of cases) {
    await withEnv(env(vars), () => {
      const c = resolveMetricsConfig();
      assert.deepEqual(
        [c.otlp, c.prometheus, c.console],
        [otlp, prometheus, console],
        JSON.stringify(vars),
      );
    });
  }
});

test("an unsupported exporter or protocol, or a malformed endpoint, is an error naming it", async () => {
  const bad: [Record<string, string>, RegExp][] = [
    [
      { OTEL_METRICS_EXPORTER: "zipkin" },
      /'zipkin' in OTEL_METRICS_EXPORTER/,
    ],
    [{ OTEL_METRICS_EXPORTER: "otlp,logging" }, /'logging'/],
    [
      { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "grpc" },
      /'grpc' in OTEL_EXPORTER_OTLP_METRICS_PROTOCOL.*4318/,
    ],
    [
      { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
      /'http\/json' in OTEL_EXPORTER_OTLP_PROTOCOL/,
    ],
    [
      { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "not a url" },
      /'not a url' \(from OTEL_EXPORTER_OTLP_METRICS_ENDPOINT\)/,
    ],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://x" }, /scheme 'ftp:'/],
  ];
  for (const [vars, message] of bad) {
    await withEnv(env(vars), async () => {
      await assert.rejects(startMetrics({ flushOnExit: false }), message);
      assert.equal(isMetricsEnabled(), false);
      assert.equal(measurementSink, undefined);
    });
  }
  // The metrics protocol variable wins over the generic one, as for traces.
  await withEnv(
    env({
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/protobuf",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
    }),
    () => assert.equal(resolveMetricsConfig().otlp, true),
  );
  // Without an OTLP push the endpoint and protocol do not matter.
  await withEnv(
    env({
      OTEL_METRICS_EXPORTER: "none",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_ENDPOINT: "nope",
    }),
    () => assert.equal(resolveMetricsConfig().otlp, false),
  );
  await withEnv(CLEAN_METRICS_ENV, async () => {
    await assert.rejects(
      startMetrics({ exportIntervalMillis: -5 }),
      /exportIntervalMillis must be a positive number, got number -5/,
    );
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      startMetrics("x" as any),
      /startMetrics options must be an object, got "x"/,
    );
  });
});

test("bad interval, timeout and temporality values are warnings naming them; defaults apply", async () => {
  await withEnv(
    env({
      OTEL_METRIC_EXPORT_INTERVAL: "soon",
      OTEL_METRIC_EXPORT_TIMEOUT: "-1",
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "sometimes",
    }),
    async () => {
      const { result: c, warnings } = await captureWarnings(() =>
        resolveMetricsConfig()
      );
      assert.equal(c.intervalMillis, 60_000);
      assert.equal(c.exportTimeoutMillis, 30_000);
      assert.equal(c.temporality, "cumulative");
      const all = warnings.join("\n");
      assert.match(all, /OTEL_METRIC_EXPORT_INTERVAL='soon'/);
      assert.match(all, /OTEL_METRIC_EXPORT_TIMEOUT='-1'/);
      assert.match(
        all,
        /OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE='sometimes'/,
      );
    },
  );
});

test("OTEL_METRICS_EXPORTER=none exports nothing and installs no sink", async () => {
  await withMetrics({ OTEL_METRICS_EXPORTER: "none" }, {}, async (rx) => {
    assert.equal(isMetricsEnabled(), true);
    assert.equal(
      measurementSink,
      undefined,
      "nothing reads the instruments: no sink",
    );
    report({ kind: "server", durationS: 0.1, operation: "chat" });
    await flushMetrics();
    await shutdownMetrics();
    assert.equal(rx.requests().length, 0);
  });
});

test("OTEL_EXPORTER_OTLP_ENDPOINT + /v1/metrics, headers sent, delta temporality", async () => {
  // withMetrics passes no explicit endpoint when the variable is set.
  let base = "";
  await withMetrics({}, { exportIntervalMillis: 60_000 }, async (rx) => {
    base = rx.endpoint;
    await shutdownMetrics();
    await withEnv(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: base,
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: "x-tenant=t1",
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "delta",
      },
      async () => {
        await startMetrics({ flushOnExit: false });
        report({ kind: "server", durationS: 0.1, operation: "chat" });
        await flushMetrics();
        report({ kind: "server", durationS: 0.2, operation: "chat" });
        await flushMetrics();
      },
    );
    const exports = rx.exports();
    assert.equal(exports.length, 2);
    assert.equal(exports[0].headers.get("x-tenant"), "t1");
    assert.equal(
      exports[0].headers.get("content-type"),
      "application/x-protobuf",
    );
    const points = exports.map((e) =>
      e.metrics.find((m) => m.name === "gen_ai.server.request.duration")!
    );
    assert.equal(points[0].temporality, "delta");
    assert.equal(points[1].points[0].count, 1, "delta: only the new point");
    assert.equal(points[1].points[0].sum, 0.2);
  });
});
