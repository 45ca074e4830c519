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
export * from "./src/attributes.ts";
export * from "./src/headers.ts";
export * from "./src/propagation.ts";
export { contextFromEnv, contextOf, getSmartContext } from "./src/context.ts";
export { loadOtelApi, type OtelApi } from "./src/api.ts";
export {
  forceFlush,
  getSpanExporter,
  initTracer,
  type InitTracerOptions,
  initWorkerTracer,
  isOtelAvailable,
  isTracingEnabled,
  logTracingDisabledWarning,
  otelImportError,
  shutdownTracing,
} from "./src/provider.ts";
export * from "./src/instrument.ts";
export * from "./src/env.ts";
export * from "./src/serve.ts";
export * from "./src/fetch.ts";
export * from "./src/genai/request_span.ts";
export {
  flushMetrics,
  isMetricsEnabled,
  shutdownMetrics,
  startMetrics,
  type StartMetricsOptions,
} from "./src/metrics/provider.ts";
export {
  metricsHandler,
  type MetricsHandlerOptions,
} from "./src/metrics/handler.ts";
export type {
  GenAIOperation,
  GenAIRequestInfo,
  GenAIResponseInfo,
} from "./src/genai/openai.ts";
export type { TimeInput } from "./src/time.ts";
export type * from "./src/types.ts";
