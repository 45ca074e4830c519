/**
 * Export batches cut into slices. llmtrace's batch processor hands over 128
 * spans at a time by default (see `setup.ts`), but
 * `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` can raise that, and encoding 512 spans in
 * one go blocks the event loop for milliseconds (the requests it serves
 * wait: tail latency). The exporter sends larger batches as requests of at most
 * {@link EXPORT_SLICE_SPANS} spans instead, encoding one slice per macrotask
 * and sending them side by side (the official delegate bounds how many are
 * in flight), so no export step blocks for long and a distant collector's
 * round trip is paid once per batch, not once per slice.
 *
 * @module
 */
import type { SpanExporter } from "../core/types.ts";

/** The most spans one export request carries. */
export const EXPORT_SLICE_SPANS = 128;

type ReadableSpans = Parameters<SpanExporter["export"]>[0];
type ExportResult = Parameters<Parameters<SpanExporter["export"]>[1]>[0];

/**
 * `inner`, with batches over `slice` spans sent as several requests: one
 * encoded per macrotask, all in flight together. The batch succeeds when
 * every request did; else the first failure is its result.
 *
 * @param inner The exporter (encodes and sends one request per call).
 * @param slice The most spans per request.
 */
export function slicedExporter(
  inner: SpanExporter,
  slice: number = EXPORT_SLICE_SPANS,
): SpanExporter {
  return {
    export(spans: ReadableSpans, done: (r: ExportResult) => void): void {
      if (spans.length <= slice) return inner.export(spans, done);
      let next = 0;
      let pending = 0;
      let failure: ExportResult | undefined;
      const settle = (r: ExportResult) => {
        if (r.code !== 0 && failure === undefined) failure = r;
        if (--pending === 0 && next >= spans.length) {
          done(failure ?? { code: 0 });
        }
      };
      const send = () => {
        const part = spans.slice(next, next += slice);
        pending++;
        inner.export(part, settle);
        // Let the requests being served run before the next slice is encoded.
        if (next < spans.length) setTimeout(send, 0);
      };
      send();
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}
