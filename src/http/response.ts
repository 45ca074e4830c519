/**
 * Follows a `Response` to its end on behalf of one or more spans (server or
 * client): streamed answers pass through the observing stream while the
 * OpenAI stream reader timestamps the first token and sums up usage; JSON
 * answers are read as they pass; the spans end when the body ends, fails or
 * is cancelled.
 *
 * @module
 */
import type { HrTime, Span } from "@opentelemetry/api";
import { STATUS_ERROR } from "../core/api.ts";
import type { Attributes } from "../core/types.ts";
import type { SemconvMode } from "../core/attributes.ts";
import { recordError } from "../core/errors.ts";
import {
  ERROR_TYPE,
  HTTP_RESPONSE_BODY_SIZE,
  LLMTRACE_RESPONSE_CHUNKS,
} from "../core/keys.ts";
import { nowHrTime } from "../core/time.ts";
import { responseAttributes, ttftAttributes } from "../genai/attributes.ts";
import {
  type GenAIResponseInfo,
  parseResponseBody,
} from "../genai/openai_response.ts";
import { OpenAIStreamReader } from "../genai/openai_stream.ts";
import type { Outcome } from "./report_measurement.ts";
import { trackPending } from "../core/pending.ts";
import { readBounded } from "./body_reader.ts";
import { observeBody } from "./observe.ts";

/** How {@link followResponse} treats a span. */
export interface FollowOptions {
  /** The span to complete. */
  span: Span;
  /** `performance.now()` when the request started (for time to first token). */
  startedAt: number;
  /** The semantic-convention mode. */
  mode: SemconvMode;
  /** Record output text (opt-in). */
  captureContent: boolean;
  /** The largest JSON body to read for usage. */
  maxJsonBytes: number;
  /**
   * Called once just before the span ends; it may return a promise (e.g. a
   * request body still being read) and the span then ends with the recorded
   * end time after it settles.
   */
  beforeEnd?: () => Promise<void> | void;
  /** Follow bodies of other content types too (end the span at body end). */
  coverAllBodies?: boolean;
  /** Called right after the span has ended, with how the response ended. */
  afterEnd?: (outcome: Outcome) => void;
  /**
   * The response came straight from `fetch`: its body is read as a byte
   * stream through one reused buffer (see `observeBody`).
   */
  fetched?: boolean;
}

/**
 * Ends `span` at `end`, after `beforeEnd` (which may be async) has run, then
 * calls `afterEnd`. Never throws.
 */
export function endSpan(
  span: Span,
  end: HrTime,
  beforeEnd?: () => Promise<void> | void,
  afterEnd?: () => void,
): void {
  let pending: Promise<void> | void;
  try {
    pending = beforeEnd?.();
  } catch {
    pending = undefined;
  }
  const finish = () => {
    try {
      span.end(end);
      afterEnd?.();
    } catch {
      // observers never break the request
    }
  };
  if (pending && typeof pending.then === "function") {
    pending.then(finish, finish);
  } else {
    finish();
  }
}

/** The one pass over a body that every following span shares. */
interface BodyWatch {
  followers: FollowOptions[];
  settled: boolean;
}

/**
 * Responses this module already follows. A router that returns
 * `tracedFetch`'s response from a `traceHandler` handler would otherwise
 * read the same body twice; the server span joins the existing pass.
 */
const watched = new WeakMap<Response, BodyWatch>();

/** How a pass over a body ended, for every span following it. */
interface Settled {
  info?: GenAIResponseInfo;
  attrs: Attributes;
  errorType?: string;
  firstContentAt?: number;
  /** Marks a span's failure (status, exception), if the body failed. */
  apply?: (f: FollowOptions) => void;
}

/** Ends every span following `watch` with what the pass found. */
function settleAll(watch: BodyWatch, s: Settled): void {
  const endedAt = performance.now();
  const end = nowHrTime();
  watch.settled = true;
  for (const f of watch.followers) {
    try {
      if (s.info) {
        f.span.setAttributes(
          responseAttributes(s.info, f.mode, f.captureContent),
        );
      }
      f.span.setAttributes(s.attrs);
      s.apply?.(f);
    } catch {
      // one span's trouble never affects another's, nor the body
    }
    const after = f.afterEnd;
    const outcome: Outcome = {
      endedAt,
      info: s.info,
      errorType: s.errorType,
      ttftS: s.firstContentAt === undefined
        ? undefined
        : (s.firstContentAt - f.startedAt) / 1000,
    };
    endSpan(f.span, end, f.beforeEnd, after && (() => after(outcome)));
  }
}

/** Ends the span now, the body untouched. */
function endNow(opts: FollowOptions): void {
  const outcome: Outcome = { endedAt: performance.now() };
  endSpan(
    opts.span,
    nowHrTime(),
    opts.beforeEnd,
    () => opts.afterEnd?.(outcome),
  );
}

/** The body failed: exception event, ERROR status, `error.type`. */
function bodyFailed(error: unknown): Pick<Settled, "apply" | "errorType"> {
  return {
    apply: (f) =>
      recordError(f.span, error, {
        fallbackType: "stream_error",
        messagePrefix: "response body failed: ",
      }),
    errorType: error instanceof Error ? error.name || "Error" : "stream_error",
  };
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
 * @param opts See {@link FollowOptions}.
 * @returns The response to hand on.
 */
export function followResponse(res: Response, opts: FollowOptions): Response {
  const existing = watched.get(res);
  if (existing && !existing.settled) {
    existing.followers.push(opts);
    return res;
  }
  const ct = res.headers.get("content-type") ?? "";
  const isSse = ct.includes("text/event-stream");
  if (!isSse && ct.includes("json")) return followJson(res, opts);
  // Reading `res.body` turns a static body into a stream: only when needed.
  const body = isSse || opts.coverAllBodies ? res.body : null;
  if (!body) {
    endNow(opts);
    return res;
  }
  return followStream(res, body, opts, isSse);
}

/** JSON: a bounded read of a clone; the response itself goes on untouched. */
function followJson(res: Response, opts: FollowOptions): Response {
  let body: ReadableStream<Uint8Array> | null;
  try {
    // Only the clone's body: reading `res.body` would turn a static body
    // into a stream, and the runtime would send it chunked.
    body = res.clone().body;
  } catch {
    body = null; // already read or locked: nothing to look into
  }
  if (!body) {
    endNow(opts);
    return res;
  }
  const watch: BodyWatch = { followers: [opts], settled: false };
  watched.set(res, watch);
  trackPending(
    readBounded(body, opts.maxJsonBytes).then((r) => {
      const attrs: Attributes = {};
      const declared = Number(res.headers.get("content-length") ?? NaN);
      const size = r.bytes || r.error !== undefined ? r.size : declared;
      if (Number.isSafeInteger(size)) attrs[HTTP_RESPONSE_BODY_SIZE] = size;
      settleAll(watch, {
        info: r.bytes && parseResponseBody(r.bytes),
        attrs,
        ...(r.error !== undefined ? bodyFailed(r.error) : {}),
      });
    }),
  );
  return res;
}

/** Streams: every chunk passes the observer on its way to the reader. */
function followStream(
  res: Response,
  body: ReadableStream<Uint8Array>,
  opts: FollowOptions,
  isSse: boolean,
): Response {
  const watch: BodyWatch = { followers: [opts], settled: false };
  const stream = isSse
    ? new OpenAIStreamReader({ captureContent: opts.captureContent })
    : undefined;
  let size = 0;
  let firstContentAt: number | undefined;

  const settle = (extra: Pick<Settled, "apply" | "errorType"> = {}) => {
    stream?.end();
    const attrs: Attributes = { [HTTP_RESPONSE_BODY_SIZE]: size };
    let info: GenAIResponseInfo | undefined;
    if (stream) {
      const streamed = stream.info;
      info = streamed;
      attrs[LLMTRACE_RESPONSE_CHUNKS] = streamed.chunks;
    }
    settleAll(watch, { info, attrs, firstContentAt, ...extra });
  };

  const observed = observeBody(body, {
    onChunk(chunk) {
      size += chunk.byteLength;
      if (stream?.push(chunk)) {
        const now = firstContentAt = performance.now();
        for (const f of watch.followers) {
          f.span.setAttributes(
            ttftAttributes((now - f.startedAt) / 1000, f.mode),
          );
        }
      }
    },
    onEnd() {
      settle();
    },
    onError(error) {
      settle(bodyFailed(error));
    },
    onCancel(reason) {
      // A reader that stops after the terminal event (the openai client
      // cancels after `data: [DONE]`) has the whole answer: a normal end.
      if (stream?.complete) return settle();
      settle({
        apply: (f) => {
          f.span.setAttribute(ERROR_TYPE, "cancelled");
          f.span.setStatus({
            code: STATUS_ERROR,
            message: "the response body was cancelled before it ended" +
              (reason instanceof Error ? `: ${reason.message}` : ""),
          });
        },
        errorType: "cancelled",
      });
    },
  }, { byteReader: opts.fetched === true });
  const out = new Response(observed, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
  watched.set(out, watch);
  return out;
}
