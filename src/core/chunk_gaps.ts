/**
 * A streamed answer's gaps between chunks (`gen_ai.client.inference.time_per_output_chunk`:
 * one value per chunk after the first, from the end of the previous chunk to
 * the end of this one), aggregated where they are measured, in fixed memory:
 * per bucket of the instrument's boundaries a count, a sum, a minimum and a
 * maximum. {@link ChunkGaps.replay} then gives the instrument values whose
 * histogram data point (count, sum, bucket counts, min, max) is exactly the
 * one the gaps themselves would have given, so a chunk costs a clock read
 * and a few array writes, never a record call or an allocation, and a long
 * stream holds no list of its gaps.
 *
 * @module
 */

// deno-fmt-ignore
/**
 * The GenAI duration buckets (`gen_ai.client.inference.duration`,
 * `.time_to_first_chunk`, `.time_per_output_chunk`, `gen_ai.server.request.duration`),
 * in seconds. Here because the chunk gaps are bucketed where they are measured.
 */
export const DURATION_BUCKETS: readonly number[] = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

/** Buckets, the last one open: (−∞, b0], (b0, b1], …, (b13, +∞). */
const N = DURATION_BUCKETS.length + 1;

/** The gaps of one stream. */
export class ChunkGaps {
  /** Per bucket: count, sum, min, max (4 × N doubles, one allocation). */
  readonly #stats = new Float64Array(4 * N);
  /** Gaps added. */
  count = 0;

  /** Adds one gap, in seconds (negative or non-finite values are skipped). */
  add(seconds: number): void {
    if (!(seconds >= 0 && seconds < Infinity)) return;
    // The OpenTelemetry explicit-bucket rule: bucket i holds (b[i-1], b[i]].
    let i = 0;
    while (i < N - 1 && seconds > DURATION_BUCKETS[i]) i++;
    const s = this.#stats;
    const at = 4 * i;
    if (s[at] === 0) {
      s[at + 2] = seconds;
      s[at + 3] = seconds;
    } else {
      if (seconds < s[at + 2]) s[at + 2] = seconds;
      if (seconds > s[at + 3]) s[at + 3] = seconds;
    }
    s[at]++;
    s[at + 1] += seconds;
    this.count++;
  }

  /**
   * Calls `record` once per gap added, with values that keep every bucket's
   * count and sum and the overall minimum and maximum: a bucket's minimum,
   * its maximum, and its other gaps at their mean (which lies between them,
   * so in the same bucket).
   */
  replay(record: (seconds: number) => void): void {
    const s = this.#stats;
    for (let at = 0; at < s.length; at += 4) {
      const count = s[at];
      if (count === 0) continue;
      const min = s[at + 2];
      const max = s[at + 3];
      record(min);
      if (count === 1) continue;
      record(max);
      if (count === 2) continue;
      const rest = count - 2;
      const mean = (s[at + 1] - min - max) / rest;
      // Rounding must not move the mean out of its bucket.
      const value = mean < min ? min : mean > max ? max : mean;
      for (let k = 0; k < rest; k++) record(value);
    }
  }
}
