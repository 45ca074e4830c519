/**
 * A Context for a remote parent without loading `@opentelemetry/api`: with
 * tracing off, llmtrace never imports the API (it costs an edge cold start
 * 8–25 ms), yet `extractTraceContext`, `contextFromEnv` and
 * `getSmartContext` must still hand back a Context that works once the
 * caller starts spans with any copy of the API and SDK.
 *
 * It follows the API's contract: an immutable map of symbol keys
 * (`getValue`/`setValue`/`deleteValue`), with the parent under the key every
 * copy of the API uses (`Symbol.for("OpenTelemetry Context Key SPAN")`), held
 * by a non-recording span that only carries its span context. The API and
 * the SDK read a parent through exactly these (`trace.getSpan(ctx)`,
 * `span.spanContext()`). Once the API is loaded, the API's own types are used.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import type { Context, SpanContext } from "./types.ts";

/** The key every copy of the API stores a context's span under. */
export const SPAN_KEY: symbol = Symbol.for("OpenTelemetry Context Key SPAN");

class LightContext implements Context {
  readonly #values: ReadonlyMap<symbol, unknown>;

  constructor(values: ReadonlyMap<symbol, unknown> = new Map()) {
    this.#values = values;
  }

  getValue(key: symbol): unknown {
    return this.#values.get(key);
  }

  setValue(key: symbol, value: unknown): Context {
    const next = new Map(this.#values);
    next.set(key, value);
    return new LightContext(next);
  }

  deleteValue(key: symbol): Context {
    const next = new Map(this.#values);
    next.delete(key);
    return new LightContext(next);
  }
}

/** The empty context (the API's `ROOT_CONTEXT`, before the API is loaded). */
export const LIGHT_ROOT_CONTEXT: Context = new LightContext();

/**
 * A span that records nothing and only carries `sc`: what the API's
 * `trace.wrapSpanContext` gives, for a remote parent.
 */
function nonRecordingSpan(sc: SpanContext): Span {
  const span: Span = {
    spanContext: () => sc,
    setAttribute: () => span,
    setAttributes: () => span,
    addEvent: () => span,
    addLink: () => span,
    addLinks: () => span,
    setStatus: () => span,
    updateName: () => span,
    end: () => {},
    isRecording: () => false,
    recordException: () => {},
  };
  return span;
}

/**
 * `base` (the empty context by default) with `sc` as the parent span, as the
 * API's `trace.setSpanContext` builds it.
 */
export function lightContextWith(sc: SpanContext, base?: Context): Context {
  return (base ?? LIGHT_ROOT_CONTEXT).setValue(SPAN_KEY, nonRecordingSpan(sc));
}
