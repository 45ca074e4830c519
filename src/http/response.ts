/**
 * Follows a `Response` to its end on behalf of one or more spans (server or
 * client): streamed answers pass through the observing stream while the
 * stream reader of the request's wire API timestamps the first token and
 * sums up usage; JSON
 * answers are read as they pass; the spans end when the body ends, fails or
 * is cancelled.
 *
 * @module
 */
import type { HrTime, Span } from "@opentelemetry/api";
import type { Attributes } from "../core/types.ts";
import { type SemconvMode, SpanAttributes as A } from "../core/attributes.ts";
import { recordError } from "../core/errors.ts";
import {
  ERROR_TYPE,
  HTTP_RESPONSE_BODY_SIZE,
  LLMTRACE_RESPONSE_CANCELLED,
  LLMTRACE_RESPONSE_CHUNKS,
} from "../core/keys.ts";
import { STATUS_ERROR } from "../core/api.ts";
import { nowHrTime } from "../core/time.ts";
import { ChunkGaps } from "../core/chunk_gaps.ts";
import { chunkGapsWanted } from "../core/measurement_sink.ts";
import { responseAttributes, ttftAttributes } from "../genai/attributes.ts";
import type { GenAIResponseInfo } from "../genai/openai_response.ts";
import { parseJson } from "../genai/json.ts";
import { DEFAULT_WIRE_API, type WireApi } from "../genai/wire.ts";
import type { GenAIStreamReader } from "../genai/wire_stream.ts";
import type { Outcome } from "./report_measurement.ts";
import { trackPending } from "../core/pending.ts";
import { type BoundedRead, readBounded } from "./body_reader.ts";
import {
  type BodyObserver,
  observeBody,
  type ObserveOptions,
} from "./observe.ts";

/**
 * A span following a response body to its end. The request-state objects of
 * `traceHandler` and `tracedFetch` are followers themselves: following a
 * body costs no callbacks per request.
 */
export interface Follower {
  /** The span to complete. */
  readonly span: Span;
  /** `performance.now()` when the request started (for time to first token). */
  readonly startedAt: number;
  /** The GenAI operation of the request, when it is one. */
  readonly operation: string | undefined;
  /** Which side follows the body: a SERVER span's or a CLIENT span's names. */
  readonly side: "server" | "client";
  /** The semantic-convention mode. */
  readonly mode: SemconvMode;
  /** Record output text (opt-in). */
  readonly captureContent: boolean;
  /** The largest JSON body to read for usage. */
  readonly maxJsonBytes: number;
  /** Follow bodies of other content types too (end the span at body end). */
  readonly coverAllBodies?: boolean;
  /**
   * The response came straight from `fetch`: its body is read as a byte
   * stream through one reused buffer (see `observeBody`).
   */
  readonly fetched?: boolean;
  /** The wire API the answer speaks (chosen with the request); OpenAI's by default. */
  readonly api?: WireApi;
  /**
   * Called once just before the span ends; it may return a promise (e.g. a
   * request body still being read) and the span then ends with the recorded
   * end time after it settles.
   */
  beforeEnd(): Promise<void> | void;
  /**
   * Called right after the span has ended, with how the response ended
   * (none when there was no response).
   */
  afterEnd(outcome?: Outcome): void;
}

/** Ends the span and reports; observers never break the request. */
function finish(f: Follower, end: HrTime, outcome?: Outcome): void {
  try {
    f.span.end(end);
    f.afterEnd(outcome);
  } catch {
    // observers never break the request
  }
}

/**
 * Ends `f`'s span at `end`, after `f.beforeEnd()` (which may be async), then
 * calls `f.afterEnd(outcome)`. Never throws.
 */
export function endSpan(f: Follower, end: HrTime, outcome?: Outcome): void {
  let pending: Promise<void> | void;
  try {
    pending = f.beforeEnd();
  } catch {
    pending = undefined;
  }
  if (pending && typeof pending.then === "function") {
    // Only a span still waiting for something pays for a callback.
    const later = () => finish(f, end, outcome);
    pending.then(later, later);
  } else {
    finish(f, end, outcome);
  }
}

/** Ends `f`'s span now, no body followed. */
function endNow(f: Follower): void {
  endSpan(f, nowHrTime(), { endedAt: performance.now() });
}

/** The one pass over a body that every following span shares. */
class BodyWatch {
  readonly followers: Follower[];
  settled = false;
  constructor(first: Follower) {
    this.followers = [first];
  }
}

/**
 * Responses this module already follows. A router that returns
 * `tracedFetch`'s response from a `traceHandler` handler would otherwise
 * read the same body twice; the server span joins the existing pass.
 */
const watched = new WeakMap<Response, BodyWatch>();

/**
 * Why a body did not end normally, for every span following it: it failed,
 * it was cancelled, or the answer itself reported a failure in a successful
 * response (a streamed `error` event, `response.failed`, a Gemini error
 * object).
 */
type Failure =
  | { kind: "error"; error: unknown }
  | { kind: "cancelled"; reason: unknown }
  | { kind: "answer"; errorType: string };

/**
 * Marks `span` as `failure` says. A body that failed: exception, ERROR
 * status, `error.type`. A body the reader cancelled ("stop generating", a
 * client gone) is not an error of the server or of the call (the GenAI
 * conventions' "Recording Errors"): the status stays unset, no `error.type`,
 * and `llmtrace.response.cancelled` tells it apart.
 */
function markFailed(span: Span, failure: Failure): void {
  if (failure.kind === "error") {
    recordError(span, failure.error, {
      fallbackType: "stream_error",
      messagePrefix: "response body failed: ",
    });
    return;
  }
  if (failure.kind === "answer") {
    span.setAttribute(ERROR_TYPE, failure.errorType);
    span.setStatus({
      code: STATUS_ERROR,
      message: `the answer reported an error: ${failure.errorType}`,
    });
    return;
  }
  span.setAttribute(LLMTRACE_RESPONSE_CANCELLED, true);
}

/**
 * Whether `signal` was aborted by its owner (the caller's AbortController, a
 * client gone), not by a timeout: the one test of "cancelled before the
 * answer" that `traceHandler` and `tracedFetch` share with the body's cancel.
 */
export function cancelledBy(signal: AbortSignal | undefined): boolean {
  if (!signal?.aborted) return false;
  const reason = signal.reason as { name?: unknown } | undefined;
  return reason?.name !== "TimeoutError";
}

/**
 * Marks a span whose request was cancelled before any answer came: as for a
 * cancelled body, no error status and no `error.type`; a GenAI call expected
 * a finish reason and got none, which the conventions record as `error`.
 */
export function markCancelledBeforeAnswer(span: Span, genai: boolean): void {
  span.setAttribute(LLMTRACE_RESPONSE_CANCELLED, true);
  if (genai) span.setAttribute(A.GEN_AI_RESPONSE_FINISH_REASONS, ["error"]);
}

/** `error.type` of a failed body, for the measurement (a cancel has none). */
function failureType(failure: Failure | undefined): string | undefined {
  if (failure === undefined || failure.kind === "cancelled") return undefined;
  if (failure.kind === "answer") return failure.errorType;
  const error = failure.error;
  return error instanceof Error ? error.name || "Error" : "stream_error";
}

/**
 * An answer that did not end normally: where a finish reason was expected
 * but none came (the generation was cancelled or failed), the conventions
 * ask for `error` in its place. Positions that did get one keep theirs.
 */
function withExpectedFinish(
  info: GenAIResponseInfo | undefined,
): GenAIResponseInfo | undefined {
  if (!info || info.finishReasons?.length) return info;
  return { ...info, finishReasons: ["error"] };
}

/** Ends every span following `watch` with what the pass found. */
function settleAll(
  watch: BodyWatch,
  info: GenAIResponseInfo | undefined,
  attrs: Attributes,
  firstContentAt: number | undefined,
  failure?: Failure,
  chunkGaps?: ChunkGaps,
): void {
  const endedAt = performance.now();
  const end = nowHrTime();
  const errorType = failureType(failure);
  const unfinished = failure ? withExpectedFinish(info) : info;
  watch.settled = true;
  for (const f of watch.followers) {
    try {
      const seen = f.operation === undefined ? info : unfinished;
      if (seen) {
        f.span.setAttributes(
          responseAttributes(seen, f.mode, f.captureContent),
        );
      }
      f.span.setAttributes(attrs);
      if (failure) markFailed(f.span, failure);
    } catch {
      // one span's trouble never affects another's, nor the body
    }
    endSpan(f, end, {
      endedAt,
      info,
      errorType,
      ttftS: firstContentAt === undefined
        ? undefined
        : (firstContentAt - f.startedAt) / 1000,
      // The gaps between chunks are what the client received.
      chunkGaps: f.side === "client" ? chunkGaps : undefined,
    });
  }
}

/**
 * Returns a response with the same status, headers and bytes whose body the
 * span follows to its end. JSON answers are read through a clone (at most
 * `maxJsonBytes`) and handed on untouched, so they keep the framing the
 * handler gave them (`Content-Length`, the runtime's fast path for static
 * bodies); server-sent events pass through the observing stream. Bodiless
 * responses (and, unless `coverAllBodies`, other content types) end the
 * span at once without touching the body. A response already followed for
 * another span is returned as is, and this span joins that pass. Never
 * throws; the caller's response is never lost.
 *
 * @param res The response to follow.
 * @param follower The span following it, see {@link Follower}.
 * @returns The response to hand on.
 */
export function followResponse(res: Response, follower: Follower): Response {
  const existing = watched.get(res);
  if (existing && !existing.settled) {
    existing.followers.push(follower);
    return res;
  }
  const ct = res.headers.get("content-type") ?? "";
  const isSse = ct.includes("text/event-stream");
  if (!isSse && ct.includes("json")) return followJson(res, follower);
  // Reading `res.body` turns a static body into a stream: only when needed.
  const body = isSse || follower.coverAllBodies ? res.body : null;
  if (!body) {
    endNow(follower);
    return res;
  }
  return followStream(res, body, follower, isSse);
}

/** A JSON answer's pass: a bounded read of a clone, settled by `read`. */
class JsonPass extends BodyWatch {
  readonly res: Response;

  constructor(res: Response, first: Follower) {
    super(first);
    this.res = res;
  }

  read(r: BoundedRead): void {
    const attrs: Attributes = {};
    const declared = Number(this.res.headers.get("content-length") ?? NaN);
    const size = r.bytes || r.error !== undefined ? r.size : declared;
    if (Number.isSafeInteger(size)) attrs[HTTP_RESPONSE_BODY_SIZE] = size;
    let info: GenAIResponseInfo | undefined;
    if (r.bytes) {
      const value = parseJson(r.bytes);
      if (value !== undefined) {
        info = (this.followers[0].api ?? DEFAULT_WIRE_API).readResponse(
          value,
          this.followers.some((f) => f.captureContent),
        );
      }
    }
    // An error status already says the call failed; an error in the body
    // of a successful one is the answer's own failure.
    const failure: Failure | undefined = r.error !== undefined
      ? { kind: "error", error: r.error }
      : info?.errorType !== undefined && this.res.status < 400
      ? { kind: "answer", errorType: info.errorType }
      : undefined;
    settleAll(this, info, attrs, undefined, failure);
  }
}

/** JSON: a bounded read of a clone; the response itself goes on untouched. */
function followJson(res: Response, follower: Follower): Response {
  let body: ReadableStream<Uint8Array> | null;
  try {
    // Only the clone's body: reading `res.body` would turn a static body
    // into a stream, and the runtime would send it chunked.
    body = res.clone().body;
  } catch {
    body = null; // already read or locked: nothing to look into
  }
  if (!body) {
    endNow(follower);
    return res;
  }
  const pass = new JsonPass(res, follower);
  watched.set(res, pass);
  trackPending(
    readBounded(body, follower.maxJsonBytes).then(pass.read.bind(pass)),
  );
  return res;
}

/**
 * A streamed body's pass: the observer every chunk goes by (its methods are
 * shared, not made per stream), counting bytes and timestamping the first
 * token for every span following it.
 */
class StreamPass extends BodyWatch implements BodyObserver {
  /** The wire API's stream reader, for server-sent events. */
  readonly stream: GenAIStreamReader | undefined;
  /** The response's status: an error event under an error status adds nothing. */
  readonly status: number;
  /** Bytes passed so far. */
  size = 0;
  /** `performance.now()` at the first content token. */
  firstContentAt: number | undefined;
  /** `performance.now()` at the end of the last chunk, from the first content on. */
  lastChunkAt = 0;
  /** The gaps between chunks after the first content, when measured. */
  gaps: ChunkGaps | undefined;

  constructor(first: Follower, isSse: boolean, status: number) {
    super(first);
    this.status = status;
    this.stream = isSse
      ? (first.api ?? DEFAULT_WIRE_API).streamReader({
        captureContent: first.captureContent,
      })
      : undefined;
  }

  onChunk(chunk: Uint8Array): void {
    this.size += chunk.byteLength;
    const gaps = this.gaps;
    if (gaps !== undefined) {
      // A chunk after the first content: from the previous chunk's end to
      // this one's (a clock read and a few array writes, no allocation).
      const now = performance.now();
      gaps.add((now - this.lastChunkAt) / 1000);
      this.lastChunkAt = now;
      this.stream?.push(chunk);
    } else if (this.stream?.push(chunk)) {
      const now = this.firstContentAt = this.lastChunkAt = performance.now();
      // `gen_ai.client.inference.time_per_output_chunk`: only where a client
      // metric records it (the latest conventions) and a client follows.
      if (chunkGapsWanted && this.followers[0].side === "client") {
        this.gaps = new ChunkGaps();
      }
      for (const f of this.followers) {
        f.span.setAttributes(
          ttftAttributes((now - f.startedAt) / 1000, f.mode, f.side),
        );
      }
    }
  }

  onEnd(): void {
    this.settle();
  }

  onError(error: unknown): void {
    // An abort of the upstream call while its body streams (the caller's
    // AbortController, the served client gone) is the client's cancel, not
    // the answer failing; a timeout (`TimeoutError`) still is an error.
    if (error instanceof Error && error.name === "AbortError") {
      return this.onCancel(error);
    }
    this.settle({ kind: "error", error });
  }

  onCancel(reason: unknown): void {
    // A reader that stops after the terminal event (the openai client
    // cancels after `data: [DONE]`) has the whole answer: a normal end.
    if (this.stream?.complete) return this.settle();
    this.settle({ kind: "cancelled", reason });
  }

  settle(failure?: Failure): void {
    const stream = this.stream;
    stream?.end();
    const attrs: Attributes = { [HTTP_RESPONSE_BODY_SIZE]: this.size };
    let info: GenAIResponseInfo | undefined;
    if (stream) {
      const streamed = stream.info;
      info = streamed;
      attrs[LLMTRACE_RESPONSE_CHUNKS] = streamed.chunks;
      // An `error` event, `response.failed`: the answer failed, unless the
      // body itself failed first (or the status already said so).
      if (
        failure === undefined && streamed.errorType !== undefined &&
        this.status < 400
      ) failure = { kind: "answer", errorType: streamed.errorType };
    }
    settleAll(this, info, attrs, this.firstContentAt, failure, this.gaps);
  }
}

const BYTE_READER: ObserveOptions = { byteReader: true };

/** Streams: every chunk passes the observer on its way to the reader. */
function followStream(
  res: Response,
  body: ReadableStream<Uint8Array>,
  follower: Follower,
  isSse: boolean,
): Response {
  const pass = new StreamPass(follower, isSse, res.status);
  const observed = observeBody(
    body,
    pass,
    follower.fetched === true ? BYTE_READER : undefined,
  );
  const out = new Response(observed, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
  watched.set(out, pass);
  return out;
}
