/**
 * The OpenTelemetry types llmtrace's public signatures use, as documented
 * aliases (they are the very same types as `@opentelemetry/api`'s).
 *
 * @module
 */
import type * as api from "@opentelemetry/api";
import type * as sdk from "@opentelemetry/sdk-trace-web";

/**
 * Span attributes: `@opentelemetry/api`'s `Attributes`.
 *
 * @example
 * ```ts
 * import { type Attributes, manualInstrument } from "@llmtrace/otel";
 *
 * const attributes: Attributes = { "gen_ai.request.model": "opt-125m", "gen_ai.request.n": 1 };
 * manualInstrument({ spanName: "step", startTime: Date.now(), attributes });
 * ```
 */
export type Attributes = api.Attributes;
/**
 * One attribute value: `@opentelemetry/api`'s `AttributeValue`.
 *
 * @example
 * ```ts
 * import type { AttributeValue } from "@llmtrace/otel";
 *
 * const stop: AttributeValue = ["\n\n", "</s>"];
 * console.log(stop);
 * ```
 */
export type AttributeValue = api.AttributeValue;
/**
 * A context, e.g. from `contextOf(req)`: `@opentelemetry/api`'s `Context`.
 *
 * @example
 * ```ts
 * import { type Context, contextOf, traceHandler } from "@llmtrace/otel";
 *
 * export default {
 *   fetch: traceHandler((req) => {
 *     const ctx: Context | undefined = contextOf(req);
 *     return new Response(ctx ? "traced" : "untraced");
 *   }),
 * };
 * ```
 */
export type Context = api.Context;
/**
 * A context manager: `@opentelemetry/api`'s `ContextManager`.
 *
 * @example
 * ```ts
 * import { type ContextManager, initTracer } from "@llmtrace/otel";
 *
 * const none: ContextManager | null = null; // llmtrace needs no context manager
 * await initTracer("my.server", undefined, undefined, { contextManager: none });
 * ```
 */
export type ContextManager = api.ContextManager;
/**
 * A link to another span: `@opentelemetry/api`'s `Link`.
 *
 * @example
 * ```ts
 * import { type Link, manualInstrument, parseTraceparent } from "@llmtrace/otel";
 *
 * const caller = parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")!;
 * const links: Link[] = [{ context: caller }];
 * manualInstrument({ spanName: "batch", startTime: Date.now(), links });
 * ```
 */
export type Link = api.Link;
/**
 * A span's identity: `@opentelemetry/api`'s `SpanContext`.
 *
 * @example
 * ```ts
 * import { parseTraceparent, type SpanContext } from "@llmtrace/otel";
 *
 * const sc: SpanContext | undefined = parseTraceparent(
 *   "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
 * );
 * console.log(sc?.traceId);
 * ```
 */
export type SpanContext = api.SpanContext;
/**
 * The kind of a span (use `SpanKind` from `@opentelemetry/api` for values).
 *
 * @example
 * ```ts
 * import { SpanKind } from "@opentelemetry/api";
 * import { manualInstrument, type SpanKind as Kind } from "@llmtrace/otel";
 *
 * const kind: Kind = SpanKind.SERVER;
 * manualInstrument({ spanName: "llm_request", startTime: Date.now(), kind });
 * ```
 */
export type SpanKind = api.SpanKind;
/**
 * A tracer: `@opentelemetry/api`'s `Tracer`.
 *
 * @example
 * ```ts
 * import { initTracer, type Tracer } from "@llmtrace/otel";
 *
 * const tracer: Tracer = await initTracer("my.server");
 * tracer.startSpan("warmup").end();
 * ```
 */
export type Tracer = api.Tracer;
/**
 * W3C trace state: `@opentelemetry/api`'s `TraceState`.
 *
 * @example
 * ```ts
 * import { parseTracestate, type TraceState } from "@llmtrace/otel";
 *
 * const state: TraceState | undefined = parseTracestate("congo=t61rcWkgMzE");
 * console.log(state?.get("congo"));
 * ```
 */
export type TraceState = api.TraceState;
/**
 * A diagnostics logger: `@opentelemetry/api`'s `DiagLogger`.
 *
 * @example
 * ```ts
 * import { type DiagLogger, initTracer } from "@llmtrace/otel";
 *
 * const quiet: DiagLogger = {
 *   error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {},
 * };
 * await initTracer("my.server", undefined, undefined, { diagLogger: quiet });
 * ```
 */
export type DiagLogger = api.DiagLogger;
/**
 * A span exporter: the OpenTelemetry SDK's `SpanExporter`.
 *
 * @example
 * ```ts
 * import { getSpanExporter, type SpanExporter } from "@llmtrace/otel";
 *
 * const exporter: SpanExporter = await getSpanExporter("http://127.0.0.1:4318/v1/traces");
 * await exporter.shutdown();
 * ```
 */
export type SpanExporter = sdk.SpanExporter;
/**
 * A span processor: the OpenTelemetry SDK's `SpanProcessor`.
 *
 * @example
 * ```ts
 * import { initTracer, type SpanProcessor } from "@llmtrace/otel";
 *
 * const counter: SpanProcessor = {
 *   onStart() {},
 *   onEnd(span) { console.log(span.name); },
 *   forceFlush: () => Promise.resolve(),
 *   shutdown: () => Promise.resolve(),
 * };
 * await initTracer("my.server", undefined, undefined, { spanProcessors: [counter] });
 * ```
 */
export type SpanProcessor = sdk.SpanProcessor;
