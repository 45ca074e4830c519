/**
 * The OpenTelemetry SDK and exporter, loaded only by `initTracer` (dynamic
 * import) so an app with tracing off never loads them.
 *
 * @module
 */
export {
  BatchSpanProcessor,
  StackContextManager,
  WebTracerProvider,
} from "@opentelemetry/sdk-trace-web";
export * from "./resources.ts";
export {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
// The platform-neutral exporter: fetch transport + the SDK's retrying
// transport and bounded concurrency. The package's default entry picks the
// node:http transport under Deno, Bun and Node, which edge runtimes lack.
export { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto/build/src/platform/browser/index.js";
