// The encode-on-end processor keeps the BatchSpanProcessor contract, checked
// at the real OTLP receiver: OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE
// (drops counted in the diagnostics), the byte cap, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
// OTEL_BSP_EXPORT_TIMEOUT, forceFlush and shutdownTracing delivering every
// ended span, and bounded memory with the collector down.
import { test } from "node:test";
import assert from "node:assert/strict";
import { diag, DiagLogLevel } from "@opentelemetry/api";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { forceFlush, initTracer, shutdownTracing } from "../../mod.ts";
import { startOtlpReceiver } from "../support/otlp_receiver.ts";
import {
  captureWarnings,
  CLEAN_ENV,
  setEnv,
  sleep,
} from "../support/helpers.ts";
import { deadPort } from "../support/servers.ts";
import {
  type BatchSettings,
  createEncodingProcessor,
} from "../../src/otlp/encoding_processor.ts";
import { encodingSettings } from "../../src/sdk/encoding_settings.ts";
import { spanProcessorEnv } from "../../src/core/env_config.ts";

const ENCODE = {
  ...CLEAN_ENV,
  OTEL_METRICS_EXPORTER: "none",
  LLMTRACE_SPAN_PROCESSOR: "encode",
};

/** initTracer with the encode-on-end processor and `env`, torn down after `fn`. */
async function withTracer(
  env: Record<string, string | undefined>,
  fn: (
    tracer: Awaited<ReturnType<typeof initTracer>>,
    rx: Awaited<ReturnType<typeof startOtlpReceiver>>,
  ) => Promise<void>,
  rxOptions?: Parameters<typeof startOtlpReceiver>[0],
): Promise<void> {
  const rx = await startOtlpReceiver(rxOptions);
  const restore = setEnv({ ...ENCODE, ...env });
  try {
    const tracer = await initTracer("test.encode", rx.url, undefined, {
      flushOnExit: false,
    });
    await fn(tracer, rx);
  } finally {
    await shutdownTracing();
    restore();
    await rx.close();
  }
}

/** Polls (bounded) until `ok()`; returns whether it became true. */
async function until(ok: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (ok()) return true;
    await sleep(10);
  }
  return ok();
}

test("OTEL_BSP_SCHEDULE_DELAY: a lone span waits for the delay, then goes out without a flush", async () => {
  await withTracer({ OTEL_BSP_SCHEDULE_DELAY: "400" }, async (tracer, rx) => {
    const t0 = Date.now();
    tracer.startSpan("lone").end();
    await sleep(150);
    assert.equal(rx.spans().length, 0, "exported before the delay");
    assert.ok(await until(() => rx.spans().length === 1, 5000));
    const waited = Date.now() - t0;
    assert.ok(waited >= 390, `exported after ${waited} ms`);
  });
});

test("OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 50 gives requests of 50 at the receiver, the rest on flush", async () => {
  await withTracer({
    OTEL_BSP_SCHEDULE_DELAY: "60000",
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "50",
  }, async (tracer, rx) => {
    for (let i = 0; i < 120; i++) tracer.startSpan(`s${i}`).end();
    assert.ok(await until(() => rx.spans().length >= 100, 5000));
    await sleep(100);
    assert.deepEqual(rx.requests().map((r) => r.spanCount), [50, 50]);
    await forceFlush();
    assert.deepEqual(rx.requests().map((r) => r.spanCount), [50, 50, 20]);
    assert.deepEqual(
      rx.spans().map((s) => s.name),
      Array.from({ length: 120 }, (_, i) => `s${i}`),
    );
  });
});

test("forceFlush delivers every ended span, including a batch already under way", async () => {
  await withTracer(
    { OTEL_BSP_SCHEDULE_DELAY: "60000" },
    async (tracer, rx) => {
      // 128 spans start an export the receiver holds for 300 ms; the other
      // 372 wait in the queue.
      for (let i = 0; i < 500; i++) {
        tracer.startSpan(`f${i}`, { attributes: { i } }).end();
      }
      await forceFlush();
      const names = new Set(rx.spans().map((s) => s.name));
      assert.equal(names.size, 500);
      assert.equal(rx.spans().length, 500);
    },
    {
      respond: ({ index }) =>
        index === 0 ? { status: 200, delayMs: 300 } : undefined,
    },
  );
});

test("shutdownTracing delivers every ended span", async () => {
  const rx = await startOtlpReceiver();
  const restore = setEnv({ ...ENCODE, OTEL_BSP_SCHEDULE_DELAY: "60000" });
  try {
    const tracer = await initTracer("test.encode", rx.url, undefined, {
      flushOnExit: false,
    });
    for (let i = 0; i < 300; i++) tracer.startSpan(`d${i}`).end();
    await shutdownTracing();
    assert.equal(rx.spans().length, 300);
    assert.equal(new Set(rx.spans().map((s) => s.name)).size, 300);
  } finally {
    await shutdownTracing();
    restore();
    await rx.close();
  }
});

test("OTEL_BSP_MAX_QUEUE_SIZE: spans past it are dropped and counted in a 'Dropped N spans' diagnostic", async () => {
  const lines: string[] = [];
  const log = (msg: string) => lines.push(msg);
  await withTracer(
    {
      OTEL_BSP_SCHEDULE_DELAY: "60000",
      OTEL_BSP_MAX_QUEUE_SIZE: "20",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "20",
    },
    async (tracer, rx) => {
      diag.setLogger(
        { error: log, warn: log, info: log, debug: log, verbose: log },
        { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
      );
      // The first 20 fill a batch the receiver holds; the next 20 fill the
      // queue behind it; 15 more are dropped.
      for (let i = 0; i < 55; i++) tracer.startSpan(`q${i}`).end();
      await forceFlush();
      assert.equal(rx.spans().length, 40);
      const dropped = lines.map((l) => /Dropped (\d+) spans/.exec(l))
        .filter((m) => m !== null).reduce((n, m) => n + Number(m![1]), 0);
      assert.equal(dropped, 15, lines.join("\n"));
      assert.match(lines.join("\n"), /OTEL_BSP_MAX_QUEUE_SIZE/);
    },
    {
      respond: ({ index }) =>
        index === 0 ? { status: 200, delayMs: 200 } : undefined,
    },
  );
  diag.disable();
});

test("OTEL_BSP_EXPORT_TIMEOUT: a hung export stops holding up the next batch after the timeout", async () => {
  await withTracer(
    {
      OTEL_BSP_SCHEDULE_DELAY: "60000",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "10",
      OTEL_BSP_EXPORT_TIMEOUT: "200",
    },
    async (tracer, rx) => {
      const { warnings } = await captureWarnings(async () => {
        const t0 = Date.now();
        for (let i = 0; i < 20; i++) tracer.startSpan(`t${i}`).end();
        // The first request hangs for 3 s; the second batch must be sent
        // about 200 ms after the first, not after 3 s.
        assert.ok(await until(() => rx.requests().length >= 2, 2500));
        const gap = Date.now() - t0;
        assert.ok(gap >= 180 && gap < 2500, `second request after ${gap} ms`);
      });
      void warnings;
    },
    {
      respond: ({ index }) =>
        index === 0 ? { status: 200, delayMs: 3000 } : undefined,
    },
  );
});

test("collector down: queued bytes stay under the byte cap, the rest are dropped and counted", async () => {
  const port = await deadPort();
  const lines: string[] = [];
  const log = (msg: string) => lines.push(msg);
  diag.setLogger(
    {
      error: () => {},
      warn: log,
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const settings: BatchSettings = {
    scheduledDelayMillis: 60_000,
    maxQueueSize: 100_000,
    maxQueueBytes: 64 * 1024,
    maxExportBatchSize: 100_000,
    exportTimeoutMillis: 500,
  };
  const processor = createEncodingProcessor({
    url: `http://127.0.0.1:${port}/v1/traces`,
    headers: {},
    timeoutMillis: 500,
  }, settings);
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  const tracer = provider.getTracer("outage");
  let maxBytes = 0;
  try {
    for (let i = 0; i < 5000; i++) {
      tracer.startSpan(`o${i}`, { attributes: { pad: "p".repeat(200), i } })
        .end();
      maxBytes = Math.max(maxBytes, processor.queuedBytes);
    }
    assert.ok(maxBytes <= 64 * 1024, `${maxBytes} bytes queued`);
    const queued = processor.queuedSpans;
    assert.ok(queued > 50 && queued < 1000, `${queued} spans queued`);
    tracer.startSpan("after").end(); // a queued span reports the drops
    const dropped = lines.map((l) => /Dropped (\d+) spans/.exec(l))
      .filter((m) => m !== null).reduce((n, m) => n + Number(m![1]), 0);
    assert.equal(dropped, 5000 - queued, lines.join("\n"));
    assert.match(lines.join("\n"), /LLMTRACE_BSP_MAX_QUEUE_BYTES/);
  } finally {
    diag.disable();
    await provider.shutdown().catch(() => {});
  }
});

test("settings: OTEL_BSP_* read, malformed values named in a warning and replaced by the default", async () => {
  const restore = setEnv({
    ...ENCODE,
    OTEL_BSP_SCHEDULE_DELAY: "250",
    OTEL_BSP_MAX_QUEUE_SIZE: "lots",
    OTEL_BSP_EXPORT_TIMEOUT: "-5",
    LLMTRACE_BSP_MAX_QUEUE_BYTES: "1048576",
  });
  try {
    const { result, warnings } = await captureWarnings(encodingSettings);
    assert.deepEqual(result, {
      scheduledDelayMillis: 250,
      maxQueueSize: 2048,
      maxQueueBytes: 1048576,
      maxExportBatchSize: 128,
      exportTimeoutMillis: 30000,
    });
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings[0], /OTEL_BSP_MAX_QUEUE_SIZE='lots'/);
    assert.match(warnings[1], /OTEL_BSP_EXPORT_TIMEOUT='-5'/);
  } finally {
    restore();
  }
});

test("LLMTRACE_SPAN_PROCESSOR: encode or sdk; anything else is named in a warning and ignored", async () => {
  for (const [value, expected] of [["encode", "encode"], ["SDK", "sdk"]]) {
    const restore = setEnv({ LLMTRACE_SPAN_PROCESSOR: value });
    try {
      assert.equal(spanProcessorEnv(), expected);
    } finally {
      restore();
    }
  }
  const restore = setEnv({ LLMTRACE_SPAN_PROCESSOR: "fast" });
  try {
    const { result, warnings } = await captureWarnings(spanProcessorEnv);
    assert.equal(result, undefined);
    assert.match(warnings.join("\n"), /LLMTRACE_SPAN_PROCESSOR='fast'/);
  } finally {
    restore();
  }
});
