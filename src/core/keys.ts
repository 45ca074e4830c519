/**
 * Every attribute key llmtrace records outside vLLM's `SpanAttributes`, as a
 * named constant: HTTP, URL, network, error and resource keys of the
 * OpenTelemetry semantic conventions, and llmtrace's own.
 *
 * @module
 */

/** `http.request.method` (known methods, else `_OTHER`). */
export const HTTP_REQUEST_METHOD = "http.request.method";
/** `http.request.method_original` (the method as sent, when not known). */
export const HTTP_REQUEST_METHOD_ORIGINAL = "http.request.method_original";
/** `http.request.resend_count` (retries and fallbacks, > 0). */
export const HTTP_REQUEST_RESEND_COUNT = "http.request.resend_count";
/** `http.request.header.<name>` prefix (values are string arrays). */
export const HTTP_REQUEST_HEADER_PREFIX = "http.request.header.";
/** `http.response.status_code` (int). */
export const HTTP_RESPONSE_STATUS_CODE = "http.response.status_code";
/** `http.response.body.size` (bytes that passed through). */
export const HTTP_RESPONSE_BODY_SIZE = "http.response.body.size";
/** `http.route` (the route template). */
export const HTTP_ROUTE = "http.route";
/** `url.path`. */
export const URL_PATH = "url.path";
/** `url.query` (credential values redacted). */
export const URL_QUERY = "url.query";
/** `url.scheme`. */
export const URL_SCHEME = "url.scheme";
/** `url.full` (client spans). */
export const URL_FULL = "url.full";
/** `server.address`. */
export const SERVER_ADDRESS = "server.address";
/** `server.port`. */
export const SERVER_PORT = "server.port";
/** `client.address`. */
export const CLIENT_ADDRESS = "client.address";
/** `user_agent.original`. */
export const USER_AGENT_ORIGINAL = "user_agent.original";
/** `error.type`. */
export const ERROR_TYPE = "error.type";

/** `gen_ai.usage.cache_creation.input_tokens`: cache writes, the name until the rename (`"dual"` mode only). */
export const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS =
  "gen_ai.usage.cache_creation.input_tokens";
/** `gen_ai.usage.cache_write.input_tokens`: input tokens written to a provider-managed cache. */
export const GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS =
  "gen_ai.usage.cache_write.input_tokens";
/** `gen_ai.usage.reasoning.output_tokens`: output tokens spent on reasoning (included in the output tokens). */
export const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS =
  "gen_ai.usage.reasoning.output_tokens";
/** `gen_ai.system_instructions`: instructions given apart from the chat history (content capture only). */
export const GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions";
/**
 * `gen_ai.request.reasoning.level`: the reasoning or thinking effort asked
 * for, exactly as sent (Chat Completions `reasoning_effort`, Responses
 * `reasoning.effort`, Messages `output_config.effort`, Gemini
 * `thinkingConfig.thinkingLevel`).
 */
export const GEN_AI_REQUEST_REASONING_LEVEL = "gen_ai.request.reasoning.level";
/** `gen_ai.request.previous_response.id`: the Responses API's `previous_response_id`. */
export const GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID =
  "gen_ai.request.previous_response.id";
/** `gen_ai.output.type`: the output type the request asks for (`text`, `json`). */
export const GEN_AI_OUTPUT_TYPE = "gen_ai.output.type";

/** `llmtrace.response.chunks`: data events seen in a streamed answer. */
export const LLMTRACE_RESPONSE_CHUNKS = "llmtrace.response.chunks";
/**
 * `llmtrace.response.cancelled` (bool): the reader cancelled the body before
 * it ended ("stop generating", a client gone). Not an error: the span's
 * status stays unset, so viewers and queries tell cancels apart with this.
 */
export const LLMTRACE_RESPONSE_CANCELLED = "llmtrace.response.cancelled";

/** Resource: `service.name`. */
export const SERVICE_NAME = "service.name";
/** Resource: `service.instance.id`. */
export const SERVICE_INSTANCE_ID = "service.instance.id";
/** Resource: `process.pid`. */
export const PROCESS_PID = "process.pid";
/** Resource: `process.runtime.name`. */
export const PROCESS_RUNTIME_NAME = "process.runtime.name";
/** Resource: `process.runtime.version`. */
export const PROCESS_RUNTIME_VERSION = "process.runtime.version";
/** Resource: vLLM's `vllm.instrumenting_module_name`. */
export const VLLM_INSTRUMENTING_MODULE_NAME = "vllm.instrumenting_module_name";
/** Resource: vLLM's `vllm.process_id` (a string). */
export const VLLM_PROCESS_ID = "vllm.process_id";
/** Resource: vLLM's `vllm.process_kind`. */
export const VLLM_PROCESS_KIND = "vllm.process_kind";
/** Resource: vLLM's `vllm.process_name`. */
export const VLLM_PROCESS_NAME = "vllm.process_name";
