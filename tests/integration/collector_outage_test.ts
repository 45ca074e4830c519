// A collector that is down, restarting or resetting connections: exports are
// retried with the official transport's backoff on every runtime (Deno and
// Node used to give up at once: their fetch rejects with a TypeError that
// has a cause, which the official fetch transport did not retry), and every
// span made during an outage arrives once the collector is back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { ExportResultCode } from "@opentelemetry/core";
import type { ExportResult } from "@opentelemetry/core";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { forceFlush, initTracer, shutdownTracing } from "../../mod.ts";
import { createTraceExporter } from "../../src/otlp/trace_exporter.ts";
import { startOtlpReceiver } from "../support/otlp_receiver.ts";
import { CLEAN_ENV, setEnv, sleep } from "../support/helpers.ts";

/** A TCP listener that accepts and at once destroys every connection. */
async function resettingListener(): Promise<
  { port: number; accepted: () => number; close: () => Promise<void> }
> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One real ended span. */
function oneSpan(): ReadableSpan[] {
  const spans: ReadableSpan[] = [];
  const provider = new BasicTracerProvider({
    spanProcessors: [{
      onStart() {},
      onEnd: (s: ReadableSpan) => void spans.push(s),
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    }],
  });
  provider.getTracer("outage").startSpan("reset").end();
  return spans;
}

test(
  "a connection the collector resets is retried with backoff, on every runtime",
  {
    timeout: 30_000,
  },
  async () => {
    const listener = await resettingListener();
    try {
      const exporter = createTraceExporter({
        url: `http://127.0.0.1:${listener.port}/v1/traces`,
        timeoutMillis: 3_000,
      });
      const started = Date.now();
      const result = await new Promise<ExportResult>((resolve) =>
        exporter.export(oneSpan(), resolve)
      );
      const ms = Date.now() - started;
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.FAILED);
      // First try, then retries after ~1 s and ~2.5 s (±20%) within 3 s.
      assert.ok(
        listener.accepted() >= 2,
        `${listener.accepted()} connection(s) in ${ms} ms: not retried`,
      );
      assert.ok(ms < 6_000, `gave up after ${ms} ms, past the 3 s deadline`);
    } finally {
      await listener.close();
    }
  },
);

test("collector down for 2.5 s, then back on the same port: N/N spans arrive", {
  // the outage and the exporter's backoff take seconds; Bun's default is 5 s
  timeout: 30_000,
}, async () => {
  const N = 300;
  let rx = await startOtlpReceiver();
  const port = rx.port;
  const restoreEnv = setEnv({
    ...CLEAN_ENV,
    OTEL_BSP_SCHEDULE_DELAY: "100",
    OTEL_METRICS_EXPORTER: "none",
  });
  try {
    const tracer = await initTracer("test.outage", rx.url);
    await rx.close(); // the collector goes down
    const downAt = Date.now();
    for (let i = 0; i < N; i++) {
      tracer.startSpan(`outage_${i}`).end();
      if (i % 30 === 29) await sleep(200); // spans keep coming for ~2 s
    }
    await sleep(Math.max(0, 2_500 - (Date.now() - downAt)));
    rx = await startOtlpReceiver({ port }); // and comes back up
    await rx.waitForSpans(
      (s) => new Set(s.map((x) => x.name)).size >= N,
      { timeoutMs: 20_000, message: `${N} spans after the outage` },
    );
    await forceFlush();
    const names = new Set(rx.spans().map((s) => s.name));
    for (let i = 0; i < N; i++) {
      assert.ok(names.has(`outage_${i}`), `outage_${i}`);
    }
  } finally {
    await shutdownTracing();
    restoreEnv();
    await rx.close();
  }
});
