/**
 * The OpenTelemetry types llmtrace's public signatures use, as documented
 * aliases (they are the very same types as `@opentelemetry/api`'s).
 *
 * @module
 */
import type * as api from "@opentelemetry/api";
import type * as sdk from "@opentelemetry/sdk-trace-web";

/** Span attributes: `@opentelemetry/api`'s `Attributes`. */
export type Attributes = api.Attributes;
/** One attribute value: `@opentelemetry/api`'s `AttributeValue`. */
export type AttributeValue = api.AttributeValue;
/** A context, e.g. from `contextOf(req)`: `@opentelemetry/api`'s `Context`. */
export type Context = api.Context;
/** A context manager: `@opentelemetry/api`'s `ContextManager`. */
export type ContextManager = api.ContextManager;
/** A link to another span: `@opentelemetry/api`'s `Link`. */
export type Link = api.Link;
/** A span's identity: `@opentelemetry/api`'s `SpanContext`. */
export type SpanContext = api.SpanContext;
/** The kind of a span (use `SpanKind` from `@opentelemetry/api` for values). */
export type SpanKind = api.SpanKind;
/** A tracer: `@opentelemetry/api`'s `Tracer`. */
export type Tracer = api.Tracer;
/** W3C trace state: `@opentelemetry/api`'s `TraceState`. */
export type TraceState = api.TraceState;
/** A diagnostics logger: `@opentelemetry/api`'s `DiagLogger`. */
export type DiagLogger = api.DiagLogger;
/** A span exporter: the OpenTelemetry SDK's `SpanExporter`. */
export type SpanExporter = sdk.SpanExporter;
/** A span processor: the OpenTelemetry SDK's `SpanProcessor`. */
export type SpanProcessor = sdk.SpanProcessor;
