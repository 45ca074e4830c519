/**
 * The OpenTelemetry metrics SDK, the OTLP metric exporter and the Prometheus
 * serializer, loaded only by `startMetrics` (dynamic import) so an app with
 * metrics off never loads them.
 *
 * @module
 */
export {
  AggregationTemporality,
  ConsoleMetricExporter,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
export * from "../sdk/bundle_resources.ts";
export { OtlpFetchMetricExporter } from "./otlp_exporter.ts";
export { PullMetricReader } from "./pull_reader.ts";
export { PROMETHEUS_CONTENT_TYPE, serializePrometheus } from "./prometheus.ts";
