/**
 * Span attribute names: vLLM's 18 keys with their exact strings, and the
 * current OpenTelemetry GenAI names; plus the semantic-convention mode.
 *
 * @module
 */
import { semconvOptIn } from "./env_config.ts";

/**
 * Attribute keys, named as in vLLM's `SpanAttributes` (camel-cased constant
 * names keep vLLM's upper-case spelling so a port reads the same).
 *
 * The first 18 are vLLM's legacy keys; the `GEN_AI_*` keys after them are the
 * current OpenTelemetry GenAI semantic-convention names.
 *
 * @example Set vLLM's token counts on a span
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { SpanAttributes } from "@llmtrace/otel";
 *
 * const span = trace.getTracer("example").startSpan("llm_request");
 * span.setAttribute(SpanAttributes.GEN_AI_USAGE_PROMPT_TOKENS, 12);
 * span.setAttribute(SpanAttributes.GEN_AI_USAGE_INPUT_TOKENS, 12);
 * span.end();
 * ```
 */
export const SpanAttributes = {
  // vLLM's keys (vllm/tracing/utils.py), exact strings.
  GEN_AI_USAGE_COMPLETION_TOKENS: "gen_ai.usage.completion_tokens",
  GEN_AI_USAGE_PROMPT_TOKENS: "gen_ai.usage.prompt_tokens",
  GEN_AI_REQUEST_MAX_TOKENS: "gen_ai.request.max_tokens",
  GEN_AI_REQUEST_TOP_P: "gen_ai.request.top_p",
  GEN_AI_REQUEST_TEMPERATURE: "gen_ai.request.temperature",
  GEN_AI_RESPONSE_MODEL: "gen_ai.response.model",
  GEN_AI_REQUEST_ID: "gen_ai.request.id",
  GEN_AI_REQUEST_N: "gen_ai.request.n",
  GEN_AI_USAGE_NUM_SEQUENCES: "gen_ai.usage.num_sequences",
  GEN_AI_LATENCY_TIME_IN_QUEUE: "gen_ai.latency.time_in_queue",
  GEN_AI_LATENCY_TIME_TO_FIRST_TOKEN: "gen_ai.latency.time_to_first_token",
  GEN_AI_LATENCY_E2E: "gen_ai.latency.e2e",
  GEN_AI_LATENCY_TIME_IN_SCHEDULER: "gen_ai.latency.time_in_scheduler",
  GEN_AI_LATENCY_TIME_IN_MODEL_FORWARD: "gen_ai.latency.time_in_model_forward",
  GEN_AI_LATENCY_TIME_IN_MODEL_EXECUTE: "gen_ai.latency.time_in_model_execute",
  GEN_AI_LATENCY_TIME_IN_MODEL_PREFILL: "gen_ai.latency.time_in_model_prefill",
  GEN_AI_LATENCY_TIME_IN_MODEL_DECODE: "gen_ai.latency.time_in_model_decode",
  GEN_AI_LATENCY_TIME_IN_MODEL_INFERENCE:
    "gen_ai.latency.time_in_model_inference",
  // Current OpenTelemetry GenAI semantic conventions.
  GEN_AI_OPERATION_NAME: "gen_ai.operation.name",
  GEN_AI_PROVIDER_NAME: "gen_ai.provider.name",
  GEN_AI_REQUEST_MODEL: "gen_ai.request.model",
  GEN_AI_USAGE_INPUT_TOKENS: "gen_ai.usage.input_tokens",
  GEN_AI_USAGE_OUTPUT_TOKENS: "gen_ai.usage.output_tokens",
  GEN_AI_RESPONSE_ID: "gen_ai.response.id",
  GEN_AI_RESPONSE_FINISH_REASONS: "gen_ai.response.finish_reasons",
  GEN_AI_REQUEST_STREAM: "gen_ai.request.stream",
  GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: "gen_ai.response.time_to_first_chunk",
  GEN_AI_REQUEST_CHOICE_COUNT: "gen_ai.request.choice.count",
  GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: "gen_ai.usage.cache_read.input_tokens",
  GEN_AI_REQUEST_SEED: "gen_ai.request.seed",
  GEN_AI_REQUEST_STOP_SEQUENCES: "gen_ai.request.stop_sequences",
  GEN_AI_REQUEST_FREQUENCY_PENALTY: "gen_ai.request.frequency_penalty",
  GEN_AI_REQUEST_PRESENCE_PENALTY: "gen_ai.request.presence_penalty",
  GEN_AI_REQUEST_TOP_K: "gen_ai.request.top_k",
  GEN_AI_INPUT_MESSAGES: "gen_ai.input.messages",
  GEN_AI_OUTPUT_MESSAGES: "gen_ai.output.messages",
  // vLLM's code-level attributes (`LoadingSpanAttributes`).
  CODE_FUNCTION: "code.function",
  CODE_NAMESPACE: "code.namespace",
  CODE_FILEPATH: "code.filepath",
  CODE_LINENO: "code.lineno",
} as const;

/**
 * The W3C trace-context header names that travel with a request, as in vLLM.
 *
 * @example
 * ```ts
 * import { TRACE_HEADERS } from "@llmtrace/otel";
 *
 * console.log(TRACE_HEADERS); // ["traceparent", "tracestate"]
 * ```
 */
export const TRACE_HEADERS: readonly ["traceparent", "tracestate"] = [
  "traceparent",
  "tracestate",
] as const;

/**
 * Which GenAI attribute names a span carries: `"dual"` (vLLM's legacy names
 * and the current ones, the default) or `"latest"` (current names only, when
 * `OTEL_SEMCONV_STABILITY_OPT_IN` lists `gen_ai_latest_experimental`).
 *
 * @example
 * ```ts
 * import { type SemconvMode, semconvMode } from "@llmtrace/otel";
 *
 * const mode: SemconvMode = semconvMode();
 * console.log(mode === "latest" ? "current names only" : "legacy and current names");
 * ```
 */
export type SemconvMode = "dual" | "latest";

/**
 * Reads `OTEL_SEMCONV_STABILITY_OPT_IN` (a comma-separated list) and tells
 * which GenAI attribute names to emit.
 *
 * @param value The variable's value; read from the environment when omitted.
 * @returns `"latest"` when the list holds `gen_ai_latest_experimental`, else `"dual"`.
 *
 * @example
 * ```ts
 * import { semconvMode } from "@llmtrace/otel";
 *
 * console.log(semconvMode("http/dup, gen_ai_latest_experimental")); // "latest"
 * console.log(semconvMode("")); // "dual"
 * ```
 */
export function semconvMode(
  value: string | undefined = semconvOptIn(),
): SemconvMode {
  if (!value) return "dual";
  for (const part of value.split(",")) {
    if (part.trim() === "gen_ai_latest_experimental") return "latest";
  }
  return "dual";
}
