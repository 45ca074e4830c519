// initTracer's batch processor exports batches of 128 spans unless
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE says otherwise: 130 ended spans go out
// (128 of them) long before the schedule delay, without a flush; the
// variable, when set, decides (64: two early batches; 512: none).
import { test } from "node:test";
import assert from "node:assert/strict";
import { forceFlush, initTracer, shutdownTracing } from "../../mod.ts";
import { startOtlpReceiver } from "../support/otlp_receiver.ts";
import { CLEAN_ENV, setEnv, sleep } from "../support/helpers.ts";

async function endSpans(
  env: Record<string, string | undefined>,
): Promise<{ early: number[]; all: number }> {
  const rx = await startOtlpReceiver();
  const restore = setEnv({
    ...CLEAN_ENV,
    OTEL_METRICS_EXPORTER: "none",
    // far beyond the test: only a full batch can trigger an export
    OTEL_BSP_SCHEDULE_DELAY: "60000",
    ...env,
  });
  try {
    const tracer = await initTracer("test.batch-defaults", rx.url);
    for (let i = 0; i < 130; i++) tracer.startSpan(`s${i}`).end();
    // Bounded wait for a batch the processor sends by itself.
    for (let i = 0; i < 40 && rx.requests().length === 0; i++) await sleep(25);
    await sleep(100);
    const early = rx.requests().map((r) => r.spanCount);
    await forceFlush();
    return { early, all: rx.spans().length };
  } finally {
    await shutdownTracing();
    restore();
    await rx.close();
  }
}

test("default: a full batch is 128 spans and leaves without waiting for the delay", async () => {
  const r = await endSpans({});
  assert.deepEqual(r.early, [128]);
  assert.equal(r.all, 130);
});

test("OTEL_BSP_MAX_EXPORT_BATCH_SIZE is honoured: 64 gives two early batches of 64, 512 none", async () => {
  const small = await endSpans({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "64" });
  assert.deepEqual(small.early, [64, 64]);
  assert.equal(small.all, 130);
  const large = await endSpans({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "512" });
  assert.deepEqual(large.early, []);
  assert.equal(large.all, 130);
});

test("a queue smaller than 128 keeps the SDK's own rule (batch = queue)", async () => {
  const r = await endSpans({ OTEL_BSP_MAX_QUEUE_SIZE: "64" });
  // 130 spans into a queue of 64: the rest are dropped; what leaves early
  // comes in batches of at most 64.
  assert.ok(r.early.length > 0 && r.early.every((n) => n <= 64), `${r.early}`);
  assert.ok(r.all <= 130);
});
