/**
 * `recordRequestSpan`: vLLM's `do_tracing`, the `llm_request` span of an
 * inference engine, for engines written in TypeScript.
 *
 * @module
 */
import { INVALID_SPAN_CONTEXT, KIND, STATUS_ERROR } from "../core/api.ts";
import type { Attributes, Context, SpanContext } from "../core/types.ts";
import { semconvMode, SpanAttributes as A } from "../core/attributes.ts";
import { _smartContext, contextOf } from "../core/context.ts";
import { recordError } from "../core/errors.ts";
import { ERROR_TYPE } from "../core/keys.ts";
import { boundAttributes, boundName } from "../core/limits.ts";
import { describe, expectObject, expectString } from "../core/validate.ts";
import { extractTraceContext, type HeadersLike } from "../core/headers.ts";
import { sanitizeAttributes } from "../core/sanitize.ts";
import {
  setChoiceCount,
  setUsage,
  ttftAttributes,
} from "../genai/attributes.ts";
import { _tracer, _tracingActive } from "../core/tracer.ts";
import { measurementSink } from "../core/measurement_sink.ts";
import {
  latencies,
  readTimings,
  type RequestTimings,
} from "./request_timings.ts";

export type { RequestTimings } from "./request_timings.ts";

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
  /** `gen_ai.provider.name`, e.g. `"vllm"`, for the span and the metrics. */
  providerName?: string;
  /** More attributes. */
  attributes?: Attributes;
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
 * `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`, which also
 * names the span `{operation} {model}` as the GenAI conventions do).
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
  expectObject(options, "recordRequestSpan(options): options");
  const { requestId, timings } = options;
  expectString(requestId, "options.requestId", true);
  const moments = readTimings(timings);
  const lat = latencies(moments);
  const prompt = count("options.promptTokens", options.promptTokens);
  const completion = count(
    "options.completionTokens",
    options.completionTokens,
  );
  const cached = count("options.cachedTokens", options.cachedTokens);
  const mode = semconvMode();
  const dual = mode === "dual";

  const operation = options.operation ?? "chat";
  const attrs: Attributes = {
    [A.GEN_AI_OPERATION_NAME]: operation,
    [A.GEN_AI_LATENCY_E2E]: lat.e2e,
  };
  if (dual) attrs[A.GEN_AI_REQUEST_ID] = requestId;
  const latency = (key: string, s: number | undefined) => {
    if (s !== undefined) attrs[key] = s;
  };
  latency(A.GEN_AI_LATENCY_TIME_IN_QUEUE, lat.queue);
  latency(A.GEN_AI_LATENCY_TIME_IN_MODEL_PREFILL, lat.prefill);
  latency(A.GEN_AI_LATENCY_TIME_IN_MODEL_DECODE, lat.decode);
  latency(A.GEN_AI_LATENCY_TIME_IN_MODEL_INFERENCE, lat.inference);
  if (lat.ttft !== undefined) {
    Object.assign(attrs, ttftAttributes(lat.ttft, mode, "server"));
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
  if (options.providerName) {
    attrs[A.GEN_AI_PROVIDER_NAME] = options.providerName;
  }
  Object.assign(attrs, sanitizeAttributes(options.attributes));

  const errorType = options.error !== undefined
    ? options.error instanceof Error ? options.error.name || "Error" : "_OTHER"
    : options.aborted
    ? "aborted"
    : undefined;
  const sink = measurementSink;
  if (sink) {
    sink({
      kind: "engine",
      durationS: lat.e2e,
      ttftS: lat.ttft,
      tpotS: completion !== undefined && completion > 1 &&
          lat.decode !== undefined
        ? lat.decode / (completion - 1)
        : undefined,
      queueS: lat.queue,
      prefillS: lat.prefill,
      decodeS: lat.decode,
      inferenceS: lat.inference,
      inputTokens: prompt,
      outputTokens: completion,
      cacheReadInputTokens: cached,
      operation,
      provider: options.providerName,
      requestModel: options.model,
      responseModel: options.responseModel,
      errorType,
      requestKey: options.request,
    });
  }
  if (!_tracingActive()) return INVALID_SPAN_CONTEXT;
  const parent = options.context ??
    (options.request ? contextOf(options.request) : undefined) ??
    (options.traceHeaders
      ? extractTraceContext(options.traceHeaders)
      : undefined) ??
    _smartContext();
  // vLLM's name; under the latest GenAI conventions `{operation} {model}`,
  // as they and vLLM's opt-in (PR #47633) name it, when the model is known.
  const name = mode === "latest" && typeof options.model === "string" &&
      options.model !== ""
    ? `${operation} ${options.model}`
    : "llm_request";
  const span = _tracer().startSpan(boundName(name), {
    kind: KIND.SERVER,
    startTime: moments.arrival,
    attributes: boundAttributes(attrs),
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
  span.end(moments.finished);
  return span.spanContext();
}
