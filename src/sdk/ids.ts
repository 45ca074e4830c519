/**
 * Trace and span ids from the Web Crypto API, and W3C Trace Context level
 * 2's `random-trace-id` flag (`0x02`) on the spans of llmtrace's provider.
 *
 * The SDK's `RandomIdGenerator` (browser and Node builds alike) draws ids
 * from `Math.random`, and its tracer sets `traceFlags` to the sampling
 * decision alone, so the random flag of a caller's `traceparent` is lost and
 * a trace the SDK starts never has it. Here, ids come from
 * `crypto.getRandomValues`, so a trace llmtrace's provider starts has random
 * ids and gets the flag; a child keeps its parent's flag, set or unset, as
 * the specification requires of a participant that continues a trace.
 *
 * @module
 */
import type {
  Context,
  Span,
  SpanContext,
  SpanOptions,
  Tracer,
  TracerProvider,
} from "@opentelemetry/api";
import type { OtelApi } from "../core/api.ts";

const INVALID_TRACE_ID = "00000000000000000000000000000000";

/** W3C trace-flags bit 1: at least the right-most 7 bytes of the trace id are random. */
export const RANDOM_TRACE_ID_FLAG = 0x02;

/** The char codes of `0`–`9`, `a`–`f`. */
const NIBBLE = new Uint8Array([
  48,
  49,
  50,
  51,
  52,
  53,
  54,
  55,
  56,
  57,
  97,
  98,
  99,
  100,
  101,
  102,
]);

/**
 * 8 bytes as 16 hex characters, in one flat string (concatenating per byte
 * builds a rope that every later reader of the id pays to flatten).
 */
function hex8(p: Uint8Array, o: number): string {
  const n = NIBBLE;
  return String.fromCharCode(
    n[p[o] >> 4],
    n[p[o] & 15],
    n[p[o + 1] >> 4],
    n[p[o + 1] & 15],
    n[p[o + 2] >> 4],
    n[p[o + 2] & 15],
    n[p[o + 3] >> 4],
    n[p[o + 3] & 15],
    n[p[o + 4] >> 4],
    n[p[o + 4] & 15],
    n[p[o + 5] >> 4],
    n[p[o + 5] & 15],
    n[p[o + 6] >> 4],
    n[p[o + 6] & 15],
    n[p[o + 7] >> 4],
    n[p[o + 7] & 15],
  );
}
// One getRandomValues call fills ids for 256 spans (or 170 span + trace id
// pairs); ids are taken from it front to back, never twice.
const POOL_BYTES = 2048;

/**
 * The SDK's `IdGenerator` shape, on `crypto.getRandomValues`. Never returns
 * an all-zero id (invalid in W3C Trace Context). @internal
 */
export class WebCryptoIdGenerator {
  #pool = new Uint8Array(POOL_BYTES);
  #offset = POOL_BYTES;
  readonly #crypto: Pick<Crypto, "getRandomValues">;

  constructor(crypto: Pick<Crypto, "getRandomValues"> = globalThis.crypto) {
    if (typeof crypto?.getRandomValues !== "function") {
      throw new TypeError("crypto.getRandomValues is not available");
    }
    this.#crypto = crypto;
  }

  /** The pool's offset of `bytes` fresh bytes, not all zero. */
  #take(bytes: number): number {
    for (;;) {
      if (this.#offset + bytes > POOL_BYTES) {
        this.#crypto.getRandomValues(this.#pool);
        this.#offset = 0;
      }
      const start = this.#offset;
      this.#offset += bytes;
      for (let i = start; i < start + bytes; i++) {
        if (this.#pool[i] !== 0) return start;
      }
    }
  }

  /** 16 random bytes as 32 lower-case hex characters. */
  generateTraceId(): string {
    const o = this.#take(16);
    return hex8(this.#pool, o) + hex8(this.#pool, o + 8);
  }

  /** 8 random bytes as 16 lower-case hex characters. */
  generateSpanId(): string {
    return hex8(this.#pool, this.#take(8));
  }
}

/** A `WebCryptoIdGenerator`, or `undefined` where Web Crypto is missing. @internal */
export function _webCryptoIdGenerator(): WebCryptoIdGenerator | undefined {
  try {
    return new WebCryptoIdGenerator();
  } catch {
    return undefined;
  }
}

/**
 * Sets the random flag on a span the tracer just started: from its parent
 * when the span continues the parent's trace, else (a new trace, whose id the
 * provider's generator drew) when `newTraceIdsAreRandom`. Mutates the span's
 * own span context object before anyone else has seen it; the invalid span
 * context of a suppressed span is shared, and is never touched.
 */
function markRandom(
  api: OtelApi,
  span: Span,
  parent: SpanContext | undefined,
  newTraceIdsAreRandom: boolean,
): void {
  let sc: SpanContext;
  try {
    sc = span.spanContext();
  } catch {
    return;
  }
  // A suppressed span shares the API's invalid span context (never to be
  // touched); any other new span has valid ids (the SDK draws new ones
  // under an invalid parent), so sharing the parent's trace id means
  // continuing it. No regex checks on the hot path.
  if (
    !sc || (sc.traceFlags & RANDOM_TRACE_ID_FLAG) !== 0 ||
    sc === api.INVALID_SPAN_CONTEXT || sc.traceId === INVALID_TRACE_ID ||
    Object.isFrozen(sc)
  ) return;
  const continues = parent !== undefined && parent.traceId === sc.traceId;
  const random = continues
    ? (parent.traceFlags & RANDOM_TRACE_ID_FLAG) !== 0
    : newTraceIdsAreRandom;
  if (random) sc.traceFlags |= RANDOM_TRACE_ID_FLAG;
}

type StartActiveSpanArgs = [
  name: string,
  a?: unknown,
  b?: unknown,
  c?: unknown,
];

/** A tracer whose spans carry the random flag (see {@link markRandom}). */
function randomFlagTracer(
  api: OtelApi,
  inner: Tracer,
  newTraceIdsAreRandom: boolean,
): Tracer {
  const startSpan = (
    name: string,
    options?: SpanOptions,
    context?: Context,
  ): Span => {
    const ctx = context ?? api.context.active();
    const span = inner.startSpan(name, options, ctx);
    const parent = options?.root ? undefined : api.trace.getSpanContext(ctx);
    markRandom(api, span, parent, newTraceIdsAreRandom);
    return span;
  };
  // The SDK's own overloads: (name, fn), (name, options, fn),
  // (name, options, context, fn); the span goes through startSpan above.
  function startActiveSpan(...args: StartActiveSpanArgs): unknown {
    const [name] = args;
    let options: SpanOptions | undefined;
    let ctx: Context | undefined;
    let fn: (span: Span) => unknown;
    if (args.length < 2) return undefined;
    if (args.length === 2) fn = args[1] as typeof fn;
    else if (args.length === 3) {
      options = args[1] as SpanOptions | undefined;
      fn = args[2] as typeof fn;
    } else {
      options = args[1] as SpanOptions | undefined;
      ctx = args[2] as Context | undefined;
      fn = args[3] as typeof fn;
    }
    const parentContext = ctx ?? api.context.active();
    const span = startSpan(name, options, parentContext);
    return api.context.with(
      api.trace.setSpan(parentContext, span),
      fn,
      undefined,
      span,
    );
  }
  // The SDK tracer's other members (instrumentationScope...) stay readable
  // through the prototype.
  return Object.assign(Object.create(inner), { startSpan, startActiveSpan });
}

/**
 * Makes every tracer of `provider` set the random flag on its spans (see
 * {@link markRandom}); tracers stay cached as the provider caches them.
 * `newTraceIdsAreRandom` tells whether the provider's id generator draws
 * random trace ids (llmtrace's own, {@link WebCryptoIdGenerator}). @internal
 */
export function _withRandomTraceIdFlag<P extends TracerProvider>(
  api: OtelApi,
  provider: P,
  newTraceIdsAreRandom: boolean,
): P {
  const getTracer = provider.getTracer.bind(provider);
  const wrapped = new WeakMap<Tracer, Tracer>();
  provider.getTracer = (name, version, options) => {
    const inner = getTracer(name, version, options);
    let t = wrapped.get(inner);
    if (!t) {
      t = randomFlagTracer(api, inner, newTraceIdsAreRandom);
      wrapped.set(inner, t);
    }
    return t;
  };
  return provider;
}
