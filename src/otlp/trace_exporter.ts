/**
 * The OTLP http/protobuf span exporter, assembled from the public entry
 * points of `@opentelemetry/otlp-exporter-base` (fetch transport, retrying
 * transport, bounded concurrency, timeout and headers are all the official
 * code), with llmtrace's one-pass writer as the serializer. No deep import
 * into `@opentelemetry/exporter-trace-otlp-proto/build/...` is needed.
 *
 * @module
 */
import { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import { createFetchDelegate } from "./fetch_delegate.ts";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { createOtlpSpanWriter } from "./writer.ts";

/** Options of {@link createTraceExporter}. */
export interface TraceExporterOptions {
  /** The full OTLP/HTTP traces URL, e.g. `http://127.0.0.1:4318/v1/traces`. */
  url: string;
  /** Extra request headers (Content-Type is always `application/x-protobuf`). */
  headers?: Record<string, string>;
  /**
   * Per-export deadline in milliseconds, retries included.
   * @default 10000
   */
  timeoutMillis?: number;
}

/** The official exporter's `otel.component.type` for its self-metrics. */
export const SPAN_COMPONENT_TYPE = "otlp_http_span_exporter";
/** How the official self-metrics count the items of a span batch. */
const SPAN_METRICS = {
  name: "span" as const,
  countItems: (spans: ReadableSpan[]) => spans.length,
};

/**
 * Creates an OTLP http/protobuf span exporter that sends with `fetch` and
 * retries as the official exporter does (429, 502, 503, 504 and network
 * errors the fetch transport deems retryable; backoff from 1 s, at most 5
 * retries, all within `timeoutMillis`; `Retry-After` honoured).
 *
 * @param options See {@link TraceExporterOptions}.
 * @returns The exporter, for a `BatchSpanProcessor`.
 * @throws {Error} when the URL cannot be parsed or `timeoutMillis` is not a
 * positive number (the official configuration checks).
 */
export function createTraceExporter(
  options: TraceExporterOptions,
): SpanExporter {
  const delegate = createFetchDelegate<ReadableSpan[]>(
    "traces",
    options,
    createOtlpSpanWriter(),
    SPAN_COMPONENT_TYPE,
    SPAN_METRICS,
  );
  return new OTLPExporterBase<ReadableSpan[]>(delegate);
}
