/**
 * The settings of `initTracer`'s encode-on-end processor: `OTEL_BSP_*` with
 * the SDK's defaults, except batches of {@link EXPORT_SLICE_SPANS} spans
 * (as `setup.ts` gives the SDK's processor), and a byte cap.
 *
 * @module
 */
import { batchProcessorEnv } from "../core/env_config.ts";
import { EXPORT_SLICE_SPANS } from "../otlp/sliced_exporter.ts";
import type { BatchSettings } from "../otlp/encoding_processor.ts";

/**
 * The byte cap's default: room for the default 2,048 queued spans at 2 KiB
 * each (a traced streamed request's SERVER span is about 0.7 KiB), so it
 * binds only where spans carry large attributes.
 */
export const DEFAULT_QUEUE_BYTES = 4 * 1024 * 1024;

/** The settings from the environment (see `BatchSettings`). */
export function encodingSettings(): BatchSettings {
  const e = batchProcessorEnv();
  const maxQueueSize = e.maxQueueSize ?? 2048;
  let maxExportBatchSize = e.maxExportBatchSize ?? EXPORT_SLICE_SPANS;
  if (maxExportBatchSize > maxQueueSize) {
    if (e.maxExportBatchSize !== undefined) {
      console.warn(
        `llmtrace: OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${maxExportBatchSize} is ` +
          `larger than OTEL_BSP_MAX_QUEUE_SIZE=${maxQueueSize}; batches are ` +
          `${maxQueueSize} spans`,
      );
    }
    maxExportBatchSize = maxQueueSize;
  }
  return {
    scheduledDelayMillis: e.scheduledDelayMillis ?? 5000,
    maxQueueSize,
    maxQueueBytes: e.maxQueueBytes ?? DEFAULT_QUEUE_BYTES,
    maxExportBatchSize,
    exportTimeoutMillis: e.exportTimeoutMillis ?? 30000,
  };
}
