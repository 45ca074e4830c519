// The encode-on-end path against the official ProtobufTraceSerializer: random
// batches of real SDK spans (fast-check), ended into the processor one by
// one, come out as requests whose bytes are those of the official serializer
// for the same spans (the sampled ones, in the order they ended, cut at the
// batch size), and decode equal with the test receiver's independent decoder.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import {
  type EncodedBatch,
  EncodedSpanQueue,
  FULL,
  QUEUED,
} from "../../src/otlp/encoded_queue.ts";
import { EncodingSpanProcessor } from "../../src/otlp/encoding_processor.ts";
import { decodeExportTraceRequest } from "../support/otlp_receiver.ts";
import { batchPlan, buildBatch } from "./span_batches.ts";
import { bigBatch, hostileSpans } from "./span_fixtures.ts";

const RUNS = Math.min(
  Number(globalThis.process?.env.WRITER_RUNS ?? "") || 150,
  20000,
);
const official = (spans: ReadableSpan[]) =>
  ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array(0);

function assertSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  let i = 0;
  while (i < actual.length && actual[i] === expected[i]) i++;
  if (i === actual.length && i === expected.length) return;
  assert.fail(
    `bytes differ at offset ${i} (ours ${actual.length} bytes, official ` +
      `${expected.length})`,
  );
}

test("random spans ended into the queue: each batch is the official serializer's request for those spans", () => {
  // One queue for all runs, as a processor lives: its caches carry over.
  const queue = new EncodedSpanQueue(64, 1 << 22, new Set());
  let batches = 0;
  let multiGroup = 0;
  fc.assert(
    fc.property(batchPlan, fc.integer({ min: 1, max: 12 }), (plan, size) => {
      const spans = buildBatch(plan);
      for (const s of spans) assert.equal(queue.push(s), QUEUED);
      for (let at = 0; at < spans.length; at += size) {
        const part = spans.slice(at, at + size);
        const batch = queue.take(size)!;
        assert.equal(batch.spans, part.length);
        const expected = official(part);
        assert.deepEqual(
          decodeExportTraceRequest(batch.body),
          decodeExportTraceRequest(expected),
        );
        assertSameBytes(batch.body, expected);
        batches++;
        if (new Set(part.map((s) => s.instrumentationScope)).size > 1) {
          multiGroup++;
        }
      }
      assert.equal(queue.count, 0);
      assert.equal(queue.bytes, 0);
    }),
    { numRuns: RUNS },
  );
  assert.ok(batches > RUNS / 2, `only ${batches} batches`);
  assert.ok(multiGroup > 0, "no batch ever mixed scopes: grouping untested");
});

test("through the processor: sampled spans only, batches of maxExportBatchSize, same bytes as official", async () => {
  const sent: EncodedBatch[] = [];
  const processor = new EncodingSpanProcessor({
    export(batch, done) {
      sent.push(batch);
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  }, {
    scheduledDelayMillis: 60_000,
    maxQueueSize: 4096,
    maxQueueBytes: 1 << 24,
    maxExportBatchSize: 7,
    exportTimeoutMillis: 1000,
  }, new Set());
  const ended: ReadableSpan[] = [];
  let unsampled = 0;
  fc.assert(
    fc.property(batchPlan, (plan) => {
      for (const s of buildBatch(plan)) {
        // Every other span also ends once more as a recorded but unsampled
        // copy (what a RECORD_ONLY sampler hands processors): not exported.
        if (ended.length % 2 === 0) {
          const ctx = { ...s.spanContext(), traceFlags: 0 };
          processor.onEnd({ ...s, spanContext: () => ctx } as ReadableSpan);
          unsampled++;
        }
        processor.onEnd(s);
        ended.push(s);
      }
    }),
    { numRuns: Math.min(RUNS, 60) },
  );
  await processor.forceFlush();
  assert.ok(unsampled > 0 && ended.length > 20, `${ended.length} spans`);
  assert.equal(processor.queuedSpans, 0);
  let at = 0;
  for (const batch of sent) {
    assert.ok(batch.spans <= 7, `a batch of ${batch.spans}`);
    const part = ended.slice(at, at += batch.spans);
    const expected = official(part);
    assert.deepEqual(
      decodeExportTraceRequest(batch.body),
      decodeExportTraceRequest(expected),
    );
    assertSameBytes(batch.body, expected);
  }
  assert.equal(at, ended.length);
  await processor.shutdown();
});

test("caps: spans past maxQueueSize or the byte cap are refused; the queue never holds more", () => {
  const spans = bigBatch(50, { big: "x".repeat(500) });
  const bySpans = new EncodedSpanQueue(10, 1 << 20);
  const results = spans.map((s) => bySpans.push(s));
  assert.equal(results.filter((r) => r === QUEUED).length, 10);
  assert.equal(results.filter((r) => r === FULL).length, 40);
  const byBytes = new EncodedSpanQueue(1000, 4096);
  for (const s of spans) byBytes.push(s);
  assert.ok(byBytes.bytes <= 4096, `${byBytes.bytes} bytes queued`);
  assert.ok(byBytes.count >= 4 && byBytes.count < 50, `${byBytes.count}`);
  // What was kept still goes out whole.
  const batch = byBytes.take(1000)!;
  assert.equal(
    decodeExportTraceRequest(batch.body).length,
    byBytes.count + batch.spans,
  );
});

test("unreadable spans are left out; readable ones around them still go out", () => {
  const { good, bad } = hostileSpans();
  const queue = new EncodedSpanQueue(100, 1 << 20, new Set());
  for (const s of [...bad, good, ...bad]) queue.push(s);
  const batch = queue.take(100)!;
  const names = decodeExportTraceRequest(batch.body).map((s) => s.name);
  assert.ok(names.includes("good"), String(names));
  assert.equal(batch.spans, queue.count + batch.spans);
});
