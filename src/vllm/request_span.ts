/**
 * `recordRequestSpan`: vLLM's `do_tracing`, the `llm_request` span of an
 * inference engine, for engines written in TypeScript.
 *
 * @module
 */
import type { HrTime } from "@opentelemetry/api";
import { INVALID_SPAN_CONTEXT, KIND, STATUS_ERROR } from "../core/api.ts";
import type { Attributes, Context, SpanContext } from "../core/types.ts";
import { semconvMode, SpanAttributes as A } from "../core/attributes.ts";
import { _smartContext, contextOf } from "../core/context.ts";
import { recordError } from "../core/errors.ts";
import { ERROR_TYPE } from "../core/keys.ts";
import { describe } from "../core/validate.ts";
import { extractTraceContext, type HeadersLike } from "../core/headers.ts";
import { sanitizeAttributes } from "../core/sanitize.ts";
import {
  setChoiceCount,
  setUsage,
  ttftAttributes,
} from "../genai/attributes.ts";
import { _tracer, _tracingActive } from "../core/tracer.ts";
import {
  compareHrTime,
  nowHrTime,
  type TimeInput,
  toHrTime,
} from "../core/time.ts";

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

/**
 * Arguments of {@link recordRequestSpan}.
 *
 * @example
 * ```ts
 * import { recordRequestSpan, type RequestSpanOptions } from "@llmtrace/otel";
 *
 * const options: RequestSpanOptions = {
 *   requestId: "cmpl-2",
 *   aborted: true,
 *   timings: { arrival: new Date(Date.now() - 100) },
 * };
 * recordRequestSpan(options);
 * ```
 */
export interface RequestSpanOptions {
  /** The request id (`gen_ai.request.id`). */
  requestId: string;
  /** When things happened; see {@link RequestTimings}. */
  timings: RequestTimings;
  /** Prompt (input) tokens. */
  promptTokens?: number;
  /** Generated (output) tokens, over all sequences. */
  completionTokens?: number;
  /** Cached prompt tokens. */
  cachedTokens?: number;
  /** The requested model. */
  model?: string;
  /** The model that answered. */
  responseModel?: string;
  /** Sampling temperature (0 is recorded). */
  temperature?: number;
  /** Nucleus sampling. */
  topP?: number;
  /** The token limit. */
  maxTokens?: number;
  /** Number of sequences requested. */
  n?: number;
  /** Finish reason of each sequence. */
  finishReasons?: string[];
  /** The operation (`gen_ai.operation.name`). @default "chat" */
  operation?: string;
  /** The request was aborted: ERROR status and finish reason `abort`. */
  aborted?: boolean;
  /** The request failed: exception event and ERROR status. */
  error?: unknown;
  /**
   * The parent: an explicit context; else the served `Request` (its
   * `traceHandler` span, see `contextOf`); else trace headers carried with
   * the request; else `getSmartContext()`.
   */
  context?: Context;
  /** The incoming request `traceHandler` is serving. */
  request?: Request;
  /** Trace headers that travelled with the request (vLLM's `trace_headers`). */
  traceHeaders?: HeadersLike;
  /** More attributes. */
  attributes?: Attributes;
}

function seconds(a: HrTime, b: HrTime): number {
  return (b[0] - a[0]) + (b[1] - a[1]) / 1e9;
}

function count(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new TypeError(
      `${name} must be a non-negative integer, got ${describe(v)}`,
    );
  }
  return v;
}

/**
 * Records vLLM's `llm_request` SERVER span for one finished (or aborted, or
 * failed) request, started at its arrival time, with vLLM's exact formulas:
 *
 * | attribute | value |
 * |---|---|
 * | `gen_ai.latency.e2e` | finished − arrival |
 * | `gen_ai.latency.time_to_first_token` | firstToken − arrival |
 * | `gen_ai.latency.time_in_queue` | scheduled − queued |
 * | `gen_ai.latency.time_in_model_prefill` | firstToken − scheduled |
 * | `gen_ai.latency.time_in_model_decode` | lastToken − firstToken |
 * | `gen_ai.latency.time_in_model_inference` | lastToken − scheduled |
 *
 * in seconds, plus token counts, the request id and sampling parameters.
 * Unlike vLLM: all timings come from one clock; a missing timestamp omits its
 * attribute instead of producing a negative number; temperature 0 is
 * recorded; aborted and failed requests get their span (ERROR status, finish
 * reason `abort`); under `traceHandler` the span is a child of the request's
 * server span. Current GenAI names are emitted too (only those, apart from
 * the `gen_ai.latency.*` breakdown that has no current equivalent, under
 * `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`).
 *
 * @param options See {@link RequestSpanOptions}.
 * @returns The span's context.
 * @throws {TypeError} for a missing request id or timings, or a wrong type.
 * @throws {RangeError} for a non-finite time or `finished` before `arrival`.
 *
 * @example
 * ```ts
 * import { recordRequestSpan } from "@llmtrace/otel";
 *
 * const t0 = Date.now();
 * recordRequestSpan({
 *   requestId: "cmpl-42",
 *   model: "facebook/opt-125m",
 *   temperature: 0,
 *   promptTokens: 12,
 *   completionTokens: 30,
 *   timings: {
 *     arrival: t0,
 *     queued: t0 + 1,
 *     scheduled: t0 + 5,
 *     firstToken: t0 + 40,
 *     lastToken: t0 + 300,
 *     finished: t0 + 301,
 *   },
 * });
 * ```
 */
export function recordRequestSpan(options: RequestSpanOptions): SpanContext {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `recordRequestSpan(options): options must be an object, got ${
        describe(options)
      }`,
    );
  }
  const { requestId, timings } = options;
  if (typeof requestId !== "string" || requestId === "") {
    throw new TypeError(
      `options.requestId must be a non-empty string, got ${
        describe(requestId)
      }`,
    );
  }
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
  if (!arrival) {
    throw new TypeError("options.timings.arrival is required");
  }
  const queued = t("queued");
  const scheduled = t("scheduled");
  const firstToken = t("firstToken");
  const lastToken = t("lastToken");
  const finished = t("finished") ?? nowHrTime();
  if (compareHrTime(finished, arrival) < 0) {
    throw new RangeError(
      `options.timings.finished (${describe(timings.finished)}) is before ` +
        `options.timings.arrival (${describe(timings.arrival)})`,
    );
  }
  const prompt = count("options.promptTokens", options.promptTokens);
  const completion = count(
    "options.completionTokens",
    options.completionTokens,
  );
  const cached = count("options.cachedTokens", options.cachedTokens);
  const mode = semconvMode();
  const dual = mode === "dual";

  const attrs: Attributes = {
    [A.GEN_AI_OPERATION_NAME]: options.operation ?? "chat",
    [A.GEN_AI_LATENCY_E2E]: seconds(arrival, finished),
  };
  if (dual) attrs[A.GEN_AI_REQUEST_ID] = requestId;
  const latency = (
    key: string,
    from: HrTime | undefined,
    to: HrTime | undefined,
  ) => {
    if (!from || !to) return;
    const s = seconds(from, to);
    if (s >= 0) attrs[key] = s;
  };
  latency(A.GEN_AI_LATENCY_TIME_IN_QUEUE, queued, scheduled);
  latency(A.GEN_AI_LATENCY_TIME_IN_MODEL_PREFILL, scheduled, firstToken);
  latency(A.GEN_AI_LATENCY_TIME_IN_MODEL_DECODE, firstToken, lastToken);
  latency(A.GEN_AI_LATENCY_TIME_IN_MODEL_INFERENCE, scheduled, lastToken);
  if (firstToken) {
    const ttft = seconds(arrival, firstToken);
    if (ttft >= 0) Object.assign(attrs, ttftAttributes(ttft, mode));
  }
  setUsage(attrs, {
    inputTokens: prompt,
    outputTokens: completion,
    cachedInputTokens: cached,
  }, mode);
  const num = (key: string, v: unknown) => {
    if (typeof v === "number" && Number.isFinite(v)) attrs[key] = v;
  };
  num(A.GEN_AI_REQUEST_TEMPERATURE, options.temperature);
  num(A.GEN_AI_REQUEST_TOP_P, options.topP);
  num(A.GEN_AI_REQUEST_MAX_TOKENS, options.maxTokens);
  if (typeof options.n === "number" && Number.isInteger(options.n)) {
    setChoiceCount(attrs, options.n, mode);
  }
  if (typeof options.model === "string") {
    attrs[A.GEN_AI_REQUEST_MODEL] = options.model;
  }
  if (typeof options.responseModel === "string") {
    attrs[A.GEN_AI_RESPONSE_MODEL] = options.responseModel;
  }
  let finish = Array.isArray(options.finishReasons)
    ? options.finishReasons.filter((r): r is string => typeof r === "string")
    : undefined;
  if (options.aborted) finish = ["abort"];
  if (finish?.length) attrs[A.GEN_AI_RESPONSE_FINISH_REASONS] = finish;
  Object.assign(attrs, sanitizeAttributes(options.attributes));

  if (!_tracingActive()) return INVALID_SPAN_CONTEXT;
  const parent = options.context ??
    (options.request ? contextOf(options.request) : undefined) ??
    (options.traceHeaders
      ? extractTraceContext(options.traceHeaders)
      : undefined) ??
    _smartContext();
  const span = _tracer().startSpan("llm_request", {
    kind: KIND.SERVER,
    startTime: arrival,
    attributes: attrs,
  }, parent);
  if (options.error !== undefined) {
    recordError(span, options.error);
  } else if (options.aborted) {
    span.setAttribute(ERROR_TYPE, "aborted");
    span.setStatus({
      code: STATUS_ERROR,
      message: "the request was aborted",
    });
  }
  span.end(finished);
  return span.spanContext();
}
