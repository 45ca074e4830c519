/**
 * The OpenTelemetry SDK and exporter, loaded only by `initTracer` (dynamic
 * import) so an app with tracing off never loads them.
 *
 * @module
 */
export {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  StackContextManager,
  WebTracerProvider,
} from "@opentelemetry/sdk-trace-web";
export * from "./bundle_resources.ts";
export {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
// OTLP http/protobuf over fetch from the official exporter pieces' public
// entry points, with llmtrace's one-pass span writer.
export { createTraceExporter } from "../otlp/trace_exporter.ts";
export { slicedExporter } from "../otlp/sliced_exporter.ts";
// Building and registering the provider (ids, resource, batch settings):
// loaded with the SDK, so a program with tracing off never loads it.
export { buildProvider, registerGlobals } from "./setup.ts";
