/**
 * The attribute keys whose values are doubles by definition, so a whole
 * number under them must still go out as `double_value`.
 *
 * @module
 */

/**
 * GenAI attribute keys typed `double`: those the OpenTelemetry GenAI
 * semantic-convention registry (`model/gen-ai/registry.yaml`, now in
 * `open-telemetry/semantic-conventions-genai`) declares `type: double`
 * (`gen_ai.request.top_k` is an int since semantic-conventions-genai #217,
 * in every mode: a type change has no legacy name to keep), and
 * vLLM's `gen_ai.latency.*` durations in seconds (vLLM's own keys, not in the
 * registry). The default `doubleKeys` of `createOtlpSpanWriter`.
 */
export const DOUBLE_ATTRIBUTE_KEYS: ReadonlySet<string> = new Set([
  // semantic conventions registry, type: double
  "gen_ai.request.temperature",
  "gen_ai.request.top_p",
  "gen_ai.request.frequency_penalty",
  "gen_ai.request.presence_penalty",
  "gen_ai.response.time_to_first_chunk",
  "gen_ai.evaluation.score.value",
  // vLLM's latency keys (vllm/tracing), seconds as float
  "gen_ai.latency.time_in_queue",
  "gen_ai.latency.time_to_first_token",
  "gen_ai.latency.e2e",
  "gen_ai.latency.time_in_scheduler",
  "gen_ai.latency.time_in_model_forward",
  "gen_ai.latency.time_in_model_execute",
  "gen_ai.latency.time_in_model_prefill",
  "gen_ai.latency.time_in_model_decode",
  "gen_ai.latency.time_in_model_inference",
]);
