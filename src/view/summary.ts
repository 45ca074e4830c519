/**
 * The per-model summary: request count, error and cancel rates, TTFT, TPOT
 * and duration percentiles, and a TTFT histogram, over the traces kept.
 *
 * A trace counts once, under its model (the one nearest its root); its TTFT,
 * TPOT, duration and outcome are its list row's (see facts.ts).
 *
 * @module
 */
import type { TraceRow } from "./facts.ts";

/**
 * TTFT histogram bounds in ms: the OpenTelemetry GenAI semantic conventions'
 * advice for `gen_ai.server.time_to_first_token` (seconds there).
 */
export const TTFT_BOUNDS_MS: readonly number[] = [
  1,
  5,
  10,
  20,
  40,
  60,
  80,
  100,
  250,
  500,
  750,
  1000,
  2500,
  5000,
  7500,
  10000,
];

/** p50, p95 and p99 of some values (undefined when there are none). */
export interface Percentiles {
  count: number;
  p50?: number;
  p95?: number;
  p99?: number;
}

/** One model's summary. */
export interface ModelSummary {
  model: string;
  count: number;
  errors: number;
  cancels: number;
  errorRate: number;
  cancelRate: number;
  ttftMs: Percentiles;
  tpotMs: Percentiles;
  durationMs: Percentiles;
  /** Counts per bucket: `(TTFT_BOUNDS_MS[i-1], TTFT_BOUNDS_MS[i]]`, and one over the last bound. */
  ttftHistogram: number[];
}

/** The label of traces that name no model. */
export const NO_MODEL = "(no model)";

/**
 * The nearest-rank percentile (the smallest value with at least p% of the
 * values at or below it), of values sorted ascending.
 */
export function nearestRank(sorted: readonly number[], p: number): number {
  const i = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.min(i, sorted.length - 1)];
}

function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0 };
  values.sort((a, b) => a - b);
  return {
    count: values.length,
    p50: nearestRank(values, 50),
    p95: nearestRank(values, 95),
    p99: nearestRank(values, 99),
  };
}

/** The bucket of a TTFT in {@link TTFT_BOUNDS_MS}. */
export function ttftBucket(ms: number): number {
  let i = 0;
  while (i < TTFT_BOUNDS_MS.length && ms > TTFT_BOUNDS_MS[i]) i++;
  return i;
}

/** Summaries per model, the busiest model first. */
export function summarize(rows: readonly TraceRow[]): ModelSummary[] {
  const groups = new Map<string, TraceRow[]>();
  for (const r of rows) {
    const key = r.model ?? NO_MODEL;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const out: ModelSummary[] = [];
  for (const [model, list] of groups) {
    const ttft: number[] = [];
    const tpot: number[] = [];
    const dur: number[] = [];
    const hist = new Array(TTFT_BOUNDS_MS.length + 1).fill(0);
    let errors = 0;
    let cancels = 0;
    for (const r of list) {
      if (r.outcome === "error") errors++;
      if (r.outcome === "cancel") cancels++;
      if (r.ttftMs !== undefined) {
        ttft.push(r.ttftMs);
        hist[ttftBucket(r.ttftMs)]++;
      }
      if (r.tpotMs !== undefined) tpot.push(r.tpotMs);
      dur.push(r.durationMs);
    }
    out.push({
      model,
      count: list.length,
      errors,
      cancels,
      errorRate: errors / list.length,
      cancelRate: cancels / list.length,
      ttftMs: percentiles(ttft),
      tpotMs: percentiles(tpot),
      durationMs: percentiles(dur),
      ttftHistogram: hist,
    });
  }
  return out.sort((a, b) => b.count - a.count || (a.model < b.model ? -1 : 1));
}
