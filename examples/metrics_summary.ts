/**
 * A short TTFT / TPOT summary from a `metricsHandler()` scrape, for the demo:
 * per series, the count, the mean (`_sum / _count`) and p50/p95 estimated
 * from the cumulative buckets the way PromQL's `histogram_quantile` does.
 *
 * @module
 */
import {
  histograms,
  type HistogramSeries,
  parsePrometheus,
} from "../tests/support/prometheus_text.ts";
import type { Palette } from "./waterfall.ts";

const SHOWN: [string, string][] = [
  ["gen_ai_server_time_to_first_token_seconds", "TTFT"],
  ["gen_ai_server_time_per_output_token_seconds", "TPOT"],
  ["gen_ai_client_operation_time_to_first_chunk_seconds", "TTFC (client)"],
  ["gen_ai_client_inference_time_to_first_chunk_seconds", "TTFC (client)"],
  ["gen_ai_server_request_duration_seconds", "duration"],
];

/** The q-quantile of a histogram series, interpolated inside its bucket. */
export function quantile(h: HistogramSeries, q: number): number {
  const rank = q * h.count;
  let lower = 0;
  let below = 0;
  for (const [le, n] of h.buckets) {
    if (n >= rank) {
      if (le === Infinity) return lower; // the highest finite bound
      return lower +
        (le - lower) * (n === below ? 0 : (rank - below) / (n - below));
    }
    if (le !== Infinity) lower = le;
    below = n;
  }
  return lower;
}

const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;

/**
 * Summary lines of the TTFT, TPOT and duration histograms in `text`.
 *
 * @param text Prometheus text format 0.0.4.
 * @param p Colours.
 * @returns Lines to print.
 */
export function summarizeMetrics(text: string, p: Palette): string[] {
  const families = parsePrometheus(text);
  const lines: string[] = [];
  for (const [name, label] of SHOWN) {
    const f = families.get(name);
    if (!f) continue;
    for (const h of histograms(f)) {
      if (h.count === 0) continue;
      const where = [
        h.labels.gen_ai_request_model,
        h.labels.server_port && `:${h.labels.server_port}`,
        h.labels.error_type && `error ${h.labels.error_type}`,
      ].filter(Boolean).join(" ");
      lines.push(
        `  ${label.padEnd(14)} ${String(h.count).padStart(3)} × ` +
          `mean ${ms(h.sum / h.count).padStart(9)} · p50 ≈ ` +
          `${ms(quantile(h, 0.5)).padStart(9)} · p95 ≈ ` +
          `${ms(quantile(h, 0.95)).padStart(9)}  ${p.dim(where)}`,
      );
    }
  }
  return lines.length
    ? [p.bold("GenAI metrics (metricsHandler, Prometheus text)"), ...lines]
    : [p.dim("no TTFT / TPOT measurements were recorded")];
}
