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

/**
 * A model server's time to first token and per output token, and a router's
 * time to first chunk of its upstream calls (a router that forwards with
 * `tracedFetch` feeds no `gen_ai.server.*` metric: its view is the client's).
 */
const SHOWN: [string, string][] = [
  ["gen_ai_server_time_to_first_token_seconds", "TTFT"],
  ["gen_ai_server_time_per_output_token_seconds", "TPOT"],
  ["gen_ai_client_operation_time_to_first_chunk_seconds", "TTFC"],
];

/** Series summed bucket by bucket (they share their bounds). */
function merge(series: HistogramSeries[]): HistogramSeries {
  const [first, ...rest] = series;
  const buckets = first.buckets.map(([le, n]) => [le, n] as [number, number]);
  let { sum, count } = first;
  for (const h of rest) {
    h.buckets.forEach(([, n], i) => (buckets[i][1] += n));
    sum += h.sum;
    count += h.count;
  }
  return { labels: first.labels, buckets, sum, count };
}

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
 * Summary lines of the TTFT and TPOT histograms in `text`: one line per
 * measuring party (all models together), named by `names[port]` for the
 * servers traceHandler measured, `llm_request` for the engine's own report,
 * and the router's upstream calls (`tracedFetch`) together.
 *
 * @param text Prometheus text format 0.0.4.
 * @param p Colours.
 * @param names Display names by `server.port`.
 * @returns Lines to print.
 */
export function summarizeMetrics(
  text: string,
  p: Palette,
  names: Record<string, string> = {},
): string[] {
  const families = parsePrometheus(text);
  const lines: string[] = [];
  for (const [name, label] of SHOWN) {
    const f = families.get(name);
    if (!f) continue;
    const groups = new Map<string, HistogramSeries[]>();
    for (const h of histograms(f)) {
      if (h.count === 0) continue;
      const port = h.labels.server_port;
      const who = label === "TTFC"
        ? "router (tracedFetch)"
        : port === undefined
        ? "llm_request (engine)"
        : `${names[port] ?? `server :${port}`}`;
      groups.set(who, [...(groups.get(who) ?? []), h]);
    }
    for (const [who, series] of groups) {
      const h = merge(series);
      lines.push(
        `  ${label} ${who.padEnd(22)} ${String(h.count).padStart(3)} × ` +
          `mean ${ms(h.sum / h.count).padStart(8)} · p50 ≈ ` +
          `${ms(quantile(h, 0.5)).padStart(8)} · p95 ≈ ` +
          `${ms(quantile(h, 0.95)).padStart(8)}`,
      );
    }
  }
  return lines.length
    ? [p.bold("GenAI metrics (scraped from metricsHandler)"), ...lines]
    : [p.dim("no TTFT / TPOT measurements were recorded")];
}
