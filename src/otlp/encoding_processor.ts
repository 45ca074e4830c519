/**
 * The encode-on-end span processor: with `LLMTRACE_SPAN_PROCESSOR=encode`,
 * `initTracer`'s provider uses it instead of the SDK's `BatchSpanProcessor`
 * (issue 23; not the default, see `sdk/setup.ts`). Each sampled span is
 * written as OTLP protobuf when it ends, into {@link EncodedSpanQueue}'s
 * byte arena, and the span object is let go; batches go out through the
 * official OTLP/HTTP transport (`fetch_delegate.ts`, with its retries).
 *
 * It keeps `BatchSpanProcessorBase`'s contract (sdk-trace 2.x): a batch
 * leaves when `maxExportBatchSize` spans are queued or `scheduledDelayMillis`
 * after the first queued one (the timer unref'd where timers are objects),
 * one scheduled export in flight at a time, `exportTimeoutMillis` after
 * which the next batch may start, a full queue drops (counted, reported as
 * "Dropped N spans" for the throttled diag logger), unsampled spans are not
 * exported, `forceFlush` exports everything queued and `shutdown` flushes
 * then shuts the exporter down. Beyond it: a byte cap, and `forceFlush`
 * also waits for exports already under way, so every span that ended
 * before it was called has been delivered (or failed) when it resolves.
 *
 * @module
 */
import { context, diag } from "@opentelemetry/api";
import {
  ExportResultCode,
  globalErrorHandler,
  suppressTracing,
} from "@opentelemetry/core";
import { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import type {
  ReadableSpan,
  SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import {
  type EncodedBatch,
  EncodedSpanQueue,
  FULL,
  QUEUED,
} from "./encoded_queue.ts";
import { createFetchDelegate, type DelegateOptions } from "./fetch_delegate.ts";
import { readExportTraceServiceResponse } from "./export_response.ts";
import { SPAN_COMPONENT_TYPE } from "./trace_exporter.ts";

/** How the encode-on-end processor batches (`sdk/encoding_settings.ts`). */
export interface BatchSettings {
  /** `OTEL_BSP_SCHEDULE_DELAY`: the longest a span waits for its batch. */
  scheduledDelayMillis: number;
  /** `OTEL_BSP_MAX_QUEUE_SIZE`: spans queued at most; more are dropped. */
  maxQueueSize: number;
  /** `LLMTRACE_BSP_MAX_QUEUE_BYTES`: encoded bytes queued at most. */
  maxQueueBytes: number;
  /** `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`: spans per export request. */
  maxExportBatchSize: number;
  /** `OTEL_BSP_EXPORT_TIMEOUT`: after this, the next batch may start. */
  exportTimeoutMillis: number;
}

/** What sends one encoded batch (the official exporter base, in production). */
export interface EncodedBatchExporter {
  export(
    batch: EncodedBatch,
    done: (result: { code: number; error?: Error }) => void,
  ): void;
  shutdown(): Promise<void>;
}

/** The official OTLP/HTTP exporter for batches already encoded. */
export function createEncodedBatchExporter(
  options: DelegateOptions,
): EncodedBatchExporter {
  return new OTLPExporterBase<EncodedBatch>(
    createFetchDelegate<EncodedBatch>(
      "traces",
      options,
      {
        serializeRequest: (batch) => batch.body,
        deserializeResponse: readExportTraceServiceResponse,
      },
      SPAN_COMPONENT_TYPE,
      { name: "span", countItems: (batch) => batch.spans },
    ),
  );
}

const SAMPLED = 1;

/** See the module documentation. */
export class EncodingSpanProcessor implements SpanProcessor {
  private readonly queue: EncodedSpanQueue;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private exporting = false;
  private readonly inFlight = new Set<Promise<void>>();
  private dropped = 0;
  private shutdownOnce: Promise<void> | undefined;
  private readonly batchSize: number;

  /**
   * @param exporter Sends the batches.
   * @param settings Delays and limits (see {@link BatchSettings}).
   * @param doubleKeys See the writer's `doubleKeys` (an empty set: the
   * official serializer's bytes).
   */
  constructor(
    private readonly exporter: EncodedBatchExporter,
    private readonly settings: BatchSettings,
    doubleKeys?: ReadonlySet<string>,
  ) {
    this.queue = new EncodedSpanQueue(
      settings.maxQueueSize,
      settings.maxQueueBytes,
      doubleKeys,
    );
    this.batchSize = Math.min(
      settings.maxExportBatchSize,
      settings.maxQueueSize,
    );
  }

  /** Spans queued (for tests and the bench). */
  get queuedSpans(): number {
    return this.queue.count;
  }

  /** Encoded bytes queued (for tests and the bench). */
  get queuedBytes(): number {
    return this.queue.bytes;
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.shutdownOnce !== undefined) return;
    if ((span.spanContext().traceFlags & SAMPLED) === 0) return;
    const r = this.queue.push(span);
    if (r === FULL) {
      if (this.dropped++ === 0) {
        diag.debug("llmtrace: export queue full, dropping spans");
      }
      return;
    }
    if (r !== QUEUED) return;
    if (this.dropped > 0) this.reportDropped();
    this.maybeStart();
  }

  forceFlush(): Promise<void> {
    return this.shutdownOnce ?? this.flushAll();
  }

  shutdown(): Promise<void> {
    return this.shutdownOnce ??= Promise.resolve()
      .then(() => this.flushAll())
      .then(() => {
        this.clearTimer();
        return this.exporter.shutdown();
      });
  }

  private reportDropped(): void {
    const s = this.settings;
    diag.warn(
      `Dropped ${this.dropped} spans because the export queue was full ` +
        `(${s.maxQueueSize} spans, OTEL_BSP_MAX_QUEUE_SIZE, or ` +
        `${s.maxQueueBytes} bytes, LLMTRACE_BSP_MAX_QUEUE_BYTES)`,
    );
    this.dropped = 0;
  }

  /** Every queued span in batches sent side by side, after those under way. */
  private flushAll(): Promise<void> {
    if (this.dropped > 0) this.reportDropped();
    const earlier = Promise.allSettled(this.inFlight);
    const batches: Promise<void>[] = [];
    for (let n = Math.ceil(this.queue.count / this.batchSize); n > 0; n--) {
      batches.push(this.exportOne());
    }
    return Promise.all([earlier, Promise.all(batches)]).then(() => {});
  }

  private maybeStart(): void {
    if (this.exporting) return;
    if (this.queue.count >= this.batchSize) return this.exportLoop();
    if (this.timer !== undefined) return;
    const t = setTimeout(() => {
      this.timer = undefined;
      this.exportLoop();
    }, this.settings.scheduledDelayMillis);
    // Node and Bun: a queued span does not keep the process alive (the exit
    // flush sends it); Deno's numeric timers cannot be unref'd here.
    if (typeof t !== "number") (t as { unref?: () => void }).unref?.();
    this.timer = t;
  }

  private exportLoop(): void {
    this.exporting = true;
    // One reaction, not catch + finally: the next batch may start as soon
    // as possible after this one settles.
    this.exportOne().then(this.exported, this.exportFailed);
  }

  private readonly exported = (): void => {
    this.exporting = false;
    if (this.queue.count > 0) {
      this.clearTimer();
      this.maybeStart();
    }
  };

  private readonly exportFailed = (e: unknown): void => {
    globalErrorHandler(e as Error);
    this.exported();
  };

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** One batch; rejects on failure or after the export timeout. */
  private exportOne(): Promise<void> {
    this.clearTimer();
    if (this.queue.count === 0) return Promise.resolve();
    const pending = this.queue.pendingResources();
    if (pending !== undefined) {
      return Promise.all(pending).then(() => this.send(this.takeBatch()));
    }
    return this.send(this.takeBatch());
  }

  private takeBatch(): EncodedBatch | undefined {
    return this.queue.take(this.batchSize);
  }

  private send(batch: EncodedBatch | undefined): Promise<void> {
    if (batch === undefined) return Promise.resolve();
    const timeout = this.settings.exportTimeoutMillis;
    const sent = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `export of ${batch.spans} spans timed out after ${timeout} ms ` +
                `(OTEL_BSP_EXPORT_TIMEOUT)`,
            ),
          ),
        timeout,
      );
      // The export's own fetch must not be traced.
      context.with(suppressTracing(context.active()), () => {
        try {
          this.exporter.export(batch, (result) => {
            clearTimeout(timer);
            if (result.code === ExportResultCode.SUCCESS) resolve();
            else {
              reject(
                result.error ?? new Error("llmtrace: span export failed"),
              );
            }
          });
        } catch (e) {
          clearTimeout(timer);
          reject(e);
        }
      });
    });
    this.inFlight.add(sent);
    sent.then(
      () => this.inFlight.delete(sent),
      () => this.inFlight.delete(sent),
    );
    return sent;
  }
}

/**
 * The processor `initTracer`'s provider uses with
 * `LLMTRACE_SPAN_PROCESSOR=encode`: batches to the collector `options` name.
 */
export function createEncodingProcessor(
  options: DelegateOptions,
  settings: BatchSettings,
): EncodingSpanProcessor {
  return new EncodingSpanProcessor(
    createEncodedBatchExporter(options),
    settings,
  );
}
