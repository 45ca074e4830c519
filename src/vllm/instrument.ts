/**
 * vLLM's `@instrument`: a span around a function call (sync, async, or a
 * whole async/sync generator iteration). `instrument_manual` is in
 * `manual_instrument.ts`.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import { _api, KIND } from "../core/api.ts";
import type {
  Attributes,
  Context,
  SpanKind as SpanKindType,
  Tracer,
} from "../core/types.ts";
import { SpanAttributes } from "../core/attributes.ts";
import { recordError } from "../core/errors.ts";
import { _smartContext } from "../core/context.ts";
import {
  expectFunction,
  expectObject,
  expectString,
} from "../core/validate.ts";
import { sanitizeAttributes } from "../core/sanitize.ts";
import { boundAttributes, boundName } from "../core/limits.ts";
import { _tracer, _tracingActive } from "../core/tracer.ts";
import { nowHrTime } from "../core/time.ts";

/**
 * Options of {@link instrument}.
 *
 * @example
 * ```ts
 * import { instrument, type InstrumentOptions } from "@llmtrace/otel";
 *
 * const options: InstrumentOptions = {
 *   spanName: "Load weights",
 *   attributes: { "model.name": "opt-125m" },
 *   recordException: true,
 * };
 * const load = instrument(async () => 42, options);
 * await load();
 * ```
 */
export interface InstrumentOptions {
  /** The span name. @default the function's name */
  spanName?: string;
  /** Extra attributes; they override the `code.*` ones. */
  attributes?: Attributes;
  /** Record a thrown error as an exception event (status is ERROR either way). @default true */
  recordException?: boolean;
  /** The span kind. @default SpanKind.INTERNAL */
  kind?: SpanKindType;
  /**
   * The parent, fixed or per call (receives the call's arguments). Unset
   * means {@link getSmartContext} at each call.
   */
  context?: Context | ((...args: never[]) => Context | undefined);
  /** `code.namespace` and the instrumentation scope. @default the caller's module file name */
  namespace?: string;
}

interface CallerSite {
  file?: string;
  line?: string;
}

function callerSite(): CallerSite {
  const stack = new Error().stack?.split("\n") ?? [];
  // [0] "Error", [1] callerSite, [2] instrument, [3] the caller of instrument
  const frame = stack[3] ?? "";
  const m = frame.match(
    /\(?((?:file|https?|jsr|npm):\/\/?[^\s)]+|\/[^\s):]+[^\s)]*):(\d+):\d+\)?\s*$/,
  );
  if (!m) return {};
  return { file: m[1], line: m[2] };
}

function moduleName(file: string | undefined): string | undefined {
  if (!file) return undefined;
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.[cm]?[jt]sx?$/, "") || undefined;
}

/** Whether `v` is a generator or async generator object. */
function isGeneratorObject(v: unknown): v is Generator | AsyncGenerator {
  if (typeof v !== "object" || v === null) return false;
  const tag = Object.prototype.toString.call(v);
  return tag === "[object Generator]" || tag === "[object AsyncGenerator]";
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === "object" || typeof v === "function") && v !== null &&
    typeof (v as { then?: unknown }).then === "function";
}

function fail(span: Span, err: unknown, record: boolean): void {
  recordError(span, err, { recordException: record, fallbackType: typeof err });
}

type Step = (
  op: () => IteratorResult<unknown> | Promise<IteratorResult<unknown>>,
) => unknown;

/**
 * Wraps a generator (sync or async) so `span` lasts the whole iteration: each
 * step runs in the span's context; the span ends when the generator is done,
 * returns or throws (the error is recorded and re-thrown). One wrapper for
 * both kinds: an async generator's steps are promises, settled the same way.
 */
function wrapGenerator<G extends Generator | AsyncGenerator>(
  gen: G,
  span: Span,
  ctx: Context,
  record: boolean,
): G {
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      span.end(nowHrTime());
    }
  };
  const done = (r: IteratorResult<unknown>) => {
    if (r.done) end();
    return r;
  };
  const failed = (e: unknown): never => {
    fail(span, e, record);
    end();
    throw e;
  };
  const step: Step = (op) => {
    if (ended) return op();
    let r: IteratorResult<unknown> | Promise<IteratorResult<unknown>>;
    try {
      r = _api()!.context.with(ctx, op);
    } catch (e) {
      return failed(e);
    }
    return isThenable(r) ? r.then(done, failed) : done(r);
  };
  // Inherit the generator's prototype so helpers and `toString` still work;
  // own next/return/throw shadow the originals.
  const g = gen as unknown as {
    next(...a: unknown[]): IteratorResult<unknown>;
    return(v: unknown): IteratorResult<unknown>;
    throw(e: unknown): IteratorResult<unknown>;
  };
  const wrapped = Object.create(Object.getPrototypeOf(gen));
  Object.defineProperties(wrapped, {
    next: { value: (...a: unknown[]) => step(() => g.next(...a)) },
    return: { value: (v: unknown) => step(() => g.return(v)) },
    throw: { value: (e: unknown) => step(() => g.throw(e)) },
  });
  return wrapped as G;
}

/**
 * Wraps a function so every call runs in a span, as vLLM's `@instrument`.
 * Works for sync functions, async functions and functions returning a
 * generator or async generator: for those, the span covers the whole
 * iteration (vLLM ends it when the generator object is created). A thrown
 * error or rejected promise sets ERROR status (and an exception event unless
 * `recordException` is false) and is re-thrown.
 *
 * Attributes: `code.function` (the function's name), `code.namespace` (the
 * calling module), `code.filepath` and `code.lineno` (where `instrument` was
 * called; a string, as vLLM sets it), then `options.attributes`.
 *
 * The parent is `options.context`, else {@link getSmartContext} at each call.
 * While the function runs synchronously its span is the active one, so nested
 * instrumented calls become children when a context manager is registered
 * (`initTracer` registers the web SDK's `StackContextManager`).
 *
 * @param fn The function to wrap.
 * @param options See {@link InstrumentOptions}.
 * @returns A function with the same signature.
 * @throws {TypeError} when `fn` is not a function.
 *
 * @example
 * ```ts
 * import { instrument } from "@llmtrace/otel";
 *
 * const loadWeights = instrument(async function loadWeights(path: string) {
 *   return path.length;
 * }, { spanName: "Load weights" });
 * await loadWeights("/models/opt-125m");
 *
 * const tokens = instrument(async function* decode() {
 *   yield "Hello";
 *   yield " world";
 * });
 * for await (const t of tokens()) console.log(t);
 * ```
 */
export function instrument<A extends unknown[], R>(
  fn: (...args: A) => R,
  options: InstrumentOptions = {},
): (...args: A) => R {
  expectFunction(fn, "instrument(fn): fn");
  expectObject(options, "instrument(fn, options): options");
  if (options.spanName !== undefined) {
    expectString(options.spanName, "options.spanName");
  }
  const site = callerSite();
  const namespace = options.namespace ?? moduleName(site.file) ?? "llmtrace";
  const attrs: Attributes = {
    [SpanAttributes.CODE_FUNCTION]: fn.name || "anonymous",
  };
  attrs[SpanAttributes.CODE_NAMESPACE] = namespace;
  if (site.file) attrs[SpanAttributes.CODE_FILEPATH] = site.file;
  if (site.line) attrs[SpanAttributes.CODE_LINENO] = site.line;
  Object.assign(boundAttributes(attrs), sanitizeAttributes(options.attributes));
  const name = boundName(options.spanName || fn.name || "anonymous");
  const record = options.recordException !== false;
  const kind = options.kind ?? KIND.INTERNAL;
  const parentOption = options.context;
  let tracer: Tracer | undefined;

  const wrapped = function (this: unknown, ...args: A): R {
    // Nothing records spans: the function runs as if unwrapped.
    if (!_tracingActive()) return fn.apply(this, args);
    const { context, trace } = _api()!;
    let parent: Context | undefined;
    try {
      parent = typeof parentOption === "function"
        ? (parentOption as unknown as (...a: A) => Context | undefined)(...args)
        : parentOption;
    } catch {
      parent = undefined;
    }
    parent ??= _smartContext();
    tracer = _tracer(namespace, undefined);
    // One clock (llmtrace's) for the start and the end of every span.
    const span = tracer.startSpan(
      name,
      { kind, attributes: attrs, startTime: nowHrTime() },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    let result: R;
    try {
      result = context.with(ctx, () => fn.apply(this, args));
    } catch (e) {
      fail(span, e, record);
      span.end(nowHrTime());
      throw e;
    }
    if (isGeneratorObject(result)) {
      return wrapGenerator(result, span, ctx, record) as R;
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (v) => {
          span.end(nowHrTime());
          return v;
        },
        (e) => {
          fail(span, e, record);
          span.end(nowHrTime());
          throw e;
        },
      ) as R;
    }
    span.end(nowHrTime());
    return result;
  };
  Object.defineProperty(wrapped, "name", { value: fn.name });
  return wrapped;
}
