// OTEL_EXPORTER_OTLP_PROTOCOL=console (as Deno's built-in telemetry takes it)
// and OTEL_TRACES_EXPORTER=console print spans with the SDK's
// ConsoleSpanExporter (metrics with its ConsoleMetricExporter) instead of
// failing at init; OTLP is not attempted unless asked for too. Checked in a
// child process's output, with a real receiver for the OTLP half.
import { test } from "node:test";
import assert from "node:assert/strict";
import { childEnv, runFixture } from "../support/helpers.ts";
import { startOtlpReceiver } from "../support/otlp_receiver.ts";

for (
  const vars of [
    { OTEL_EXPORTER_OTLP_PROTOCOL: "console" },
    // Traces only: metrics would still push over OTLP, so they are off.
    {
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "Console",
      OTEL_METRICS_EXPORTER: "none",
    },
    { OTEL_TRACES_EXPORTER: "console", OTEL_METRICS_EXPORTER: "console" },
  ]
) {
  const label = Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(" ");
  test(`${label}: the span is printed, nothing is sent, no error`, async () => {
    const r = await runFixture(
      "console_exporter.ts",
      childEnv({ ...vars, LLMTRACE_TEST_SPAN: "printed_span" }),
    );
    assert.equal(r.code, 0, r.stderr);
    // ConsoleSpanExporter's record of the span: its name, ids, attributes.
    assert.match(r.stdout, /name: ['"]printed_span['"]/, r.stdout);
    assert.match(r.stdout, /traceId: ['"][0-9a-f]{32}['"]/);
    assert.match(r.stdout, /console-model/);
    // No OTLP export was attempted (none reaches localhost:4318 here), and
    // children are handed no endpoint.
    assert.doesNotMatch(r.stderr, /export|4318/i, r.stderr);
    assert.match(r.stdout, /endpoint env: undefined/);
    const v: Record<string, string | undefined> = vars;
    if (
      v.OTEL_METRICS_EXPORTER === "console" || v.OTEL_EXPORTER_OTLP_PROTOCOL
    ) {
      // The metrics went the same way: ConsoleMetricExporter's record.
      assert.match(r.stdout, /gen_ai\.client\.operation\.duration/, r.stdout);
    }
  });
}

test("OTEL_TRACES_EXPORTER=otlp,console: printed and exported; an unknown value is warned about, naming it", async () => {
  const rx = await startOtlpReceiver();
  try {
    const r = await runFixture(
      "console_exporter.ts",
      childEnv({
        OTEL_TRACES_EXPORTER: "otlp,console,zipkin",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
        OTEL_METRICS_EXPORTER: "none",
        LLMTRACE_TEST_SPAN: "both_span",
      }),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /name: ['"]both_span['"]/);
    assert.match(
      r.stderr,
      /'zipkin' in OTEL_TRACES_EXPORTER='otlp,console,zipkin'/,
    );
    const spans = await rx.waitForSpans(
      (s) => s.some((x) => x.name === "both_span"),
      { timeoutMs: 10_000, message: "both_span exported" },
    );
    assert.equal(
      spans.find((x) => x.name === "both_span")!
        .attributes["gen_ai.request.model"],
      "console-model",
    );
  } finally {
    await rx.close();
  }
});
