/**
 * vLLM's `instrument_manual`: one span with explicit timestamps, created and
 * ended at once, e.g. for work timed elsewhere (an engine step, a compile).
 *
 * @module
 */
import { INVALID_SPAN_CONTEXT, KIND } from "../core/api.ts";
import type {
  Attributes,
  Context,
  Link,
  SpanContext,
  SpanKind as SpanKindType,
} from "../core/types.ts";
import { recordError } from "../core/errors.ts";
import { _smartContext } from "../core/context.ts";
import { describe, expectObject, expectString } from "../core/validate.ts";
import { sanitizeAttributes } from "../core/sanitize.ts";
import { boundName } from "../core/limits.ts";
import { _tracer, _tracingActive } from "../core/tracer.ts";
import {
  compareHrTime,
  nowHrTime,
  type TimeInput,
  toHrTime,
} from "../core/time.ts";

/**
 * Arguments of {@link manualInstrument}.
 *
 * @example
 * ```ts
 * import { manualInstrument, type ManualInstrumentOptions } from "@llmtrace/otel";
 *
 * const span: ManualInstrumentOptions = {
 *   spanName: "prefill",
 *   startTime: Date.now() - 30,
 *   endTime: Date.now(),
 *   attributes: { "vllm.batch_size": 4 },
 * };
 * manualInstrument(span);
 * ```
 */
export interface ManualInstrumentOptions {
  /** The span name. */
  spanName: string;
  /** When the span started: epoch ms (`number`), `Date`, or epoch ns (`bigint`). */
  startTime: TimeInput;
  /** When it ended; now when omitted. Must not be before `startTime`. */
  endTime?: TimeInput;
  /** Span attributes; values that are objects or functions are dropped. */
  attributes?: Attributes | Record<string, unknown>;
  /** The parent; {@link getSmartContext} when omitted. */
  context?: Context;
  /** The span kind. @default SpanKind.INTERNAL */
  kind?: SpanKindType;
  /** Links to other spans. */
  links?: Link[];
  /** An error: recorded as an exception event with ERROR status. */
  error?: unknown;
}

/**
 * Creates and ends one span with explicit timestamps, as vLLM's
 * `instrument_manual`, plus `error` (vLLM PR #32162) and the span context as
 * the result so later spans can be parented to it.
 *
 * @param options See {@link ManualInstrumentOptions}.
 * @returns The new span's context.
 * @throws {TypeError} for a missing name or a time of the wrong type.
 * @throws {RangeError} for a non-finite time or an end before the start.
 *
 * @example
 * ```ts
 * import { manualInstrument } from "@llmtrace/otel";
 *
 * const start = Date.now() - 1200;
 * manualInstrument({
 *   spanName: "Dynamo bytecode transform",
 *   startTime: start,
 *   endTime: new Date(start + 1200),
 *   attributes: { "dynamo.time_seconds": 1.2 },
 * });
 * ```
 */
export function manualInstrument(
  options: ManualInstrumentOptions,
): SpanContext {
  expectObject(options, "manualInstrument(options): options");
  const { spanName } = options;
  expectString(spanName, "options.spanName", true);
  const start = toHrTime(options.startTime, "options.startTime");
  const end = options.endTime === undefined
    ? undefined
    : toHrTime(options.endTime, "options.endTime");
  if (end && compareHrTime(end, start) < 0) {
    throw new RangeError(
      `options.endTime (${
        describe(options.endTime)
      }) is before options.startTime (${describe(options.startTime)})`,
    );
  }
  if (!_tracingActive()) return INVALID_SPAN_CONTEXT;
  const parent = options.context ?? _smartContext();
  const span = _tracer().startSpan(boundName(spanName), {
    kind: options.kind ?? KIND.INTERNAL,
    startTime: start,
    attributes: sanitizeAttributes(options.attributes),
    links: options.links,
  }, parent);
  if (options.error !== undefined) {
    recordError(span, options.error, { fallbackType: typeof options.error });
  }
  // Without an end: now, on llmtrace's clock, never before the start (a
  // start from Date.now() may be a little ahead of the performance clock).
  const now = nowHrTime();
  span.end(end ?? (compareHrTime(now, start) < 0 ? start : now));
  return span.spanContext();
}
