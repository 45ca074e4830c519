/**
 * Explicit timestamps: epoch milliseconds as `number`, `Date`, or epoch
 * nanoseconds as `bigint`, checked and turned into OpenTelemetry `HrTime`.
 *
 * @module
 */
import type { HrTime } from "@opentelemetry/api";
import { describe } from "./validate.ts";

/**
 * A point in time: epoch milliseconds (`number`, fractions allowed), a `Date`,
 * or epoch nanoseconds (`bigint`).
 *
 * @example
 * ```ts
 * import { manualInstrument, type TimeInput } from "@llmtrace/otel";
 *
 * const start: TimeInput = Date.now() - 5; // or new Date(), or 1700000000000000000n
 * manualInstrument({ spanName: "step", startTime: start });
 * ```
 */
export type TimeInput = number | Date | bigint;

/**
 * Converts a {@link TimeInput} to `HrTime` (`[seconds, nanoseconds]`).
 *
 * @param value The time.
 * @param name The argument's name, for the error message.
 * @throws {TypeError} for a value of another type.
 * @throws {RangeError} for a non-finite or negative time or an invalid Date.
 */
export function toHrTime(value: unknown, name: string): HrTime {
  if (typeof value === "bigint") {
    if (value < 0n) {
      throw new RangeError(
        `${name} must be a non-negative epoch time in nanoseconds, got ${value}n`,
      );
    }
    return [Number(value / 1_000_000_000n), Number(value % 1_000_000_000n)];
  }
  let ms: number;
  if (typeof value === "number") ms = value;
  else if (value instanceof Date) ms = value.getTime();
  else {
    throw new TypeError(
      `${name} must be epoch milliseconds (number), a Date, or epoch ` +
        `nanoseconds (bigint), got ${describe(value)}`,
    );
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(
      `${name} must be a finite, non-negative epoch time, got ${
        describe(value)
      }`,
    );
  }
  const seconds = Math.floor(ms / 1000);
  // An epoch time in milliseconds as a double carries about 0.2 µs of
  // precision: round to whole microseconds rather than invent nanoseconds.
  let micros = Math.round((ms - seconds * 1000) * 1000);
  if (micros >= 1e6) micros = 1e6 - 1;
  return [seconds, micros * 1000];
}

/** Compares two HrTimes: negative when `a` is before `b`. */
export function compareHrTime(a: HrTime, b: HrTime): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}

/** The current wall-clock time as HrTime, with sub-millisecond precision. */
export function nowHrTime(): HrTime {
  return perfToHrTime(performance.now());
}

/**
 * The wall-clock time of a `performance.now()` reading as HrTime (one clock
 * read serves both a duration's start and the span's start time).
 */
export function perfToHrTime(perfNow: number): HrTime {
  const ms = performance.timeOrigin + perfNow;
  const seconds = Math.floor(ms / 1000);
  return [
    seconds,
    Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6)),
  ];
}
