/**
 * llmtrace: vLLM's OpenTelemetry request tracing for fetch-style runtimes
 * (Deno, Bun, Node, Cloudflare workerd). Wrap a `Deno.serve`/`Bun.serve`
 * handler and an upstream `fetch`, and get one trace per LLM request with
 * GenAI attributes (model, tokens, time to first token, queue, decode),
 * streams included, exported as OTLP http/protobuf with `fetch`.
 *
 * @example Trace an OpenAI-compatible server
 * ```ts
 * import { initTracer, traceHandler } from "@llmtrace/otel";
 *
 * await initTracer("my.llm.server"); // OTEL_EXPORTER_OTLP_ENDPOINT or localhost:4318
 * Deno.serve(traceHandler(async (req) => {
 *   const body = await req.json();
 *   return Response.json({ model: body.model, choices: [] });
 * }));
 * ```
 *
 * @module
 */
export * from "./src/core/attributes.ts";
export * from "./src/core/headers.ts";
export * from "./src/core/propagation.ts";
export {
  contextFromEnv,
  contextOf,
  getSmartContext,
} from "./src/core/context.ts";
export { loadOtelApi, type OtelApi } from "./src/core/api.ts";
export {
  forceFlush,
  initTracer,
  initWorkerTracer,
  isTracingEnabled,
  shutdownTracing,
} from "./src/sdk/tracer_provider.ts";
export type { InitTracerOptions } from "./src/sdk/init_options.ts";
export { isOtelAvailable, otelImportError } from "./src/sdk/load.ts";
export { getSpanExporter } from "./src/sdk/exporter.ts";
export { logTracingDisabledWarning } from "./src/vllm/warnings.ts";
export * from "./src/vllm/instrument.ts";
export * from "./src/vllm/manual_instrument.ts";
export { sanitizeAttributes } from "./src/core/sanitize.ts";
export * from "./src/vllm/env.ts";
export * from "./src/http/server.ts";
export * from "./src/http/client.ts";
export * from "./src/vllm/request_span.ts";
export {
  flushMetrics,
  isMetricsEnabled,
  shutdownMetrics,
  startMetrics,
  type StartMetricsOptions,
} from "./src/metrics/meter_provider.ts";
export {
  metricsHandler,
  type MetricsHandlerOptions,
} from "./src/metrics/handler.ts";
export type {
  GenAIOperation,
  GenAIRequestInfo,
} from "./src/genai/openai_request.ts";
export type { GenAIResponseInfo } from "./src/genai/openai_response.ts";
export type { WireApiName } from "./src/genai/wire.ts";
export type { TimeInput } from "./src/core/time.ts";
export type * from "./src/core/types.ts";
