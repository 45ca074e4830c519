// A batch of more than 128 spans goes out as requests of at most 128 spans
// each (one encoded per macrotask, so no export step blocks the event loop
// for long), all of them delivered; the batch fails when any request fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ExportResult } from "@opentelemetry/core";
import { createTraceExporter } from "../../src/otlp/trace_exporter.ts";
import {
  EXPORT_SLICE_SPANS,
  slicedExporter,
} from "../../src/otlp/sliced_exporter.ts";
import { startOtlpReceiver } from "../support/otlp_receiver.ts";
import { bigBatch } from "./span_fixtures.ts";

function exportAll(
  url: string,
  n: number,
): Promise<ExportResult> {
  const exporter = slicedExporter(createTraceExporter({ url }));
  return new Promise<ExportResult>((resolve) =>
    exporter.export(bigBatch(n, { "gen_ai.request.model": "m" }), resolve)
  ).finally(() => exporter.shutdown());
}

test("300 spans: three requests of at most 128, every span delivered once", async () => {
  const rx = await startOtlpReceiver();
  try {
    const result = await exportAll(rx.url, 300);
    assert.equal(result.code, 0);
    assert.equal(EXPORT_SLICE_SPANS, 128);
    const counts = rx.requests().map((r) => r.spanCount).sort((a, b) => a - b);
    assert.deepEqual(counts, [44, 128, 128]);
    assert.equal(rx.spans().length, 300);
    const ids = new Set(rx.spans().map((s) => s.spanId));
    assert.equal(ids.size, 300);
  } finally {
    await rx.close();
  }
});

test("a batch of at most 128 spans is one request", async () => {
  const rx = await startOtlpReceiver();
  try {
    assert.equal((await exportAll(rx.url, 128)).code, 0);
    assert.deepEqual(rx.requests().map((r) => r.spanCount), [128]);
  } finally {
    await rx.close();
  }
});

test("one refused slice fails the batch; the other slices still go out", async () => {
  const rx = await startOtlpReceiver({
    respond: ({ index }) => (index === 1 ? { status: 400 } : undefined),
  });
  try {
    const result = await exportAll(rx.url, 300);
    assert.notEqual(result.code, 0);
    assert.equal(rx.requests().length, 3);
    assert.equal(rx.spans().length, 300 - rx.requests()[1].spanCount);
  } finally {
    await rx.close();
  }
});
