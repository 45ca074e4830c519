/**
 * The OTLP http/protobuf metric exporter, sent with `fetch` on every runtime,
 * assembled from the official pieces' public entry points: the SDK's
 * `OTLPExporterBase`, the fetch export delegate of
 * `@opentelemetry/otlp-exporter-base/browser-http` (retries, bounded
 * concurrency) and `ProtobufMetricsSerializer`. The official
 * `@opentelemetry/exporter-metrics-otlp-proto` picks its `node:http`
 * transport everywhere but in browser bundles, and offers its fetch build
 * only through a deep `build/` path. Loaded only through `sdk.ts`.
 *
 * @module
 */
import { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import { createFetchDelegate } from "../otlp/fetch_delegate.ts";
import {
  MetricsExporterMetricsHelper,
  ProtobufMetricsSerializer,
} from "@opentelemetry/otlp-transformer";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import {
  AggregationTemporality,
  InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import type { TemporalityPreference } from "../core/env_config.ts";

/** Settings of {@link OtlpFetchMetricExporter}. */
export interface OtlpFetchMetricExporterOptions {
  /** The full metrics URL. */
  url: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Per-request timeout, ms. @default 10000 */
  timeoutMillis?: number;
  /** Aggregation temporality preference. @default "cumulative" */
  temporality?: TemporalityPreference;
}

/**
 * Pushes `ResourceMetrics` as an OTLP `ExportMetricsServiceRequest`
 * (`application/x-protobuf`) with `fetch`. The first failure of a run of
 * failures is a console warning naming the endpoint (the SDK itself only
 * tells its diag logger).
 */
export class OtlpFetchMetricExporter extends OTLPExporterBase<ResourceMetrics>
  implements PushMetricExporter {
  #temporality: TemporalityPreference;
  #url: string;
  #failing = false;

  /** @param options See {@link OtlpFetchMetricExporterOptions}. */
  constructor(options: OtlpFetchMetricExporterOptions) {
    super(createFetchDelegate<ResourceMetrics>(
      "metrics",
      options,
      ProtobufMetricsSerializer,
      "otlp_http_metric_exporter",
      MetricsExporterMetricsHelper,
    ));
    this.#temporality = options.temporality ?? "cumulative";
    this.#url = options.url;
  }

  /**
   * Exports one collection; see `OTLPExporterBase`.
   *
   * @param items The collected metrics.
   * @param resultCallback Called with the result.
   */
  override export(
    items: ResourceMetrics,
    resultCallback: (result: ExportResult) => void,
  ): void {
    super.export(items, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        this.#failing = false;
      } else if (!this.#failing) {
        this.#failing = true;
        console.warn(
          `llmtrace: metrics could not be exported to ${this.#url}: ${
            result.error?.message ?? "export failed"
          } (further failures are not reported until an export succeeds)`,
        );
      }
      resultCallback(result);
    });
  }

  /**
   * The temporality for an instrument type, as the OTLP exporter
   * specification maps the preference: `delta` makes counters, histograms
   * and observable counters delta; `lowmemory` only counters and histograms;
   * up-down counters stay cumulative.
   *
   * @param type The instrument type.
   * @returns DELTA or CUMULATIVE.
   */
  selectAggregationTemporality(type: InstrumentType): AggregationTemporality {
    const t = this.#temporality;
    if (t === "cumulative") return AggregationTemporality.CUMULATIVE;
    if (
      type === InstrumentType.COUNTER || type === InstrumentType.HISTOGRAM ||
      (t === "delta" && type === InstrumentType.OBSERVABLE_COUNTER)
    ) {
      return AggregationTemporality.DELTA;
    }
    return AggregationTemporality.CUMULATIVE;
  }
}
