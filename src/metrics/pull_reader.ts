/**
 * The pull-based reader behind `metricsHandler()`: collects on demand (one
 * scrape, one collection), cumulative like Prometheus expects. Loaded only
 * through `sdk.ts`.
 *
 * @module
 */
import { MetricReader } from "@opentelemetry/sdk-metrics";

/**
 * A `MetricReader` that exports nothing by itself; `collect()` is called per
 * scrape.
 */
export class PullMetricReader extends MetricReader {
  /** Nothing is buffered: a scrape collects. */
  protected override async onForceFlush(): Promise<void> {}
  /** Nothing to release. */
  protected override async onShutdown(): Promise<void> {}
}
