/**
 * The moments of an engine request's life and the latencies vLLM derives
 * from them, all on one clock; shared by the `llm_request` span and the
 * engine metrics.
 *
 * @module
 */
import type { HrTime } from "@opentelemetry/api";
import {
  compareHrTime,
  nowHrTime,
  type TimeInput,
  toHrTime,
} from "../core/time.ts";
import { describe } from "../core/validate.ts";

/**
 * The moments of one request's life, all on ONE clock (epoch milliseconds,
 * `Date`, or epoch nanoseconds as `bigint`). Only `arrival` is required; a
 * missing moment omits the attributes that need it.
 *
 * @example
 * ```ts
 * import { recordRequestSpan, type RequestTimings } from "@llmtrace/otel";
 *
 * const t0 = Date.now();
 * const timings: RequestTimings = { arrival: t0, scheduled: t0 + 2, firstToken: t0 + 30 };
 * recordRequestSpan({ requestId: "cmpl-1", timings });
 * ```
 */
export interface RequestTimings {
  /** The request arrived (the span starts here). */
  arrival: TimeInput;
  /** It entered the scheduler's queue. */
  queued?: TimeInput;
  /** It was first scheduled (preemptions do not move this). */
  scheduled?: TimeInput;
  /** The first output token was produced. */
  firstToken?: TimeInput;
  /** The last output token was produced. */
  lastToken?: TimeInput;
  /** The request finished (the span ends here; now when omitted). */
  finished?: TimeInput;
}

/** Checked timings as HrTime; `finished` defaults to now. */
export interface Moments {
  arrival: HrTime;
  queued?: HrTime;
  scheduled?: HrTime;
  firstToken?: HrTime;
  lastToken?: HrTime;
  finished: HrTime;
}

/** vLLM's latencies in seconds; each only when its moments are known and in order. */
export interface Latencies {
  /** finished − arrival */
  e2e: number;
  /** firstToken − arrival */
  ttft?: number;
  /** scheduled − queued */
  queue?: number;
  /** firstToken − scheduled */
  prefill?: number;
  /** lastToken − firstToken */
  decode?: number;
  /** lastToken − scheduled */
  inference?: number;
}

/**
 * Checks and converts the timings.
 *
 * @throws {TypeError} for missing timings or `arrival`, or a wrong type.
 * @throws {RangeError} for a non-finite time or `finished` before `arrival`.
 */
export function readTimings(timings: RequestTimings): Moments {
  if (timings === null || typeof timings !== "object") {
    throw new TypeError(
      `options.timings must be an object with at least 'arrival', got ${
        describe(timings)
      }`,
    );
  }
  const t = (k: keyof RequestTimings) =>
    timings[k] === undefined
      ? undefined
      : toHrTime(timings[k], `options.timings.${k}`);
  const arrival = t("arrival");
  if (!arrival) throw new TypeError("options.timings.arrival is required");
  const given = t("finished");
  // Without `finished`: now, never before `arrival` (epoch times from
  // Date.now() can be a little ahead of the performance clock).
  const now = nowHrTime();
  const finished = given ??
    (compareHrTime(now, arrival) < 0 ? arrival : now);
  if (compareHrTime(finished, arrival) < 0) {
    throw new RangeError(
      `options.timings.finished (${describe(timings.finished)}) is before ` +
        `options.timings.arrival (${describe(timings.arrival)})`,
    );
  }
  return {
    arrival,
    queued: t("queued"),
    scheduled: t("scheduled"),
    firstToken: t("firstToken"),
    lastToken: t("lastToken"),
    finished,
  };
}

function seconds(a: HrTime, b: HrTime): number {
  return (b[0] - a[0]) + (b[1] - a[1]) / 1e9;
}

function between(
  from: HrTime | undefined,
  to: HrTime | undefined,
): number | undefined {
  if (!from || !to) return undefined;
  const s = seconds(from, to);
  return s >= 0 ? s : undefined;
}

/** vLLM's formulas (see {@link Latencies}); a missing moment omits its latency. */
export function latencies(m: Moments): Latencies {
  return {
    e2e: seconds(m.arrival, m.finished),
    ttft: between(m.arrival, m.firstToken),
    queue: between(m.queued, m.scheduled),
    prefill: between(m.scheduled, m.firstToken),
    decode: between(m.firstToken, m.lastToken),
    inference: between(m.scheduled, m.lastToken),
  };
}
