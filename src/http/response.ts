/**
 * Follows a `Response` to its end on behalf of a span (server or client):
 * streamed answers pass through an observer that timestamps the first token,
 * counts chunks and reads usage; JSON answers are read as they pass; the span
 * ends when the body ends, fails or is cancelled.
 *
 * @module
 */
import type { HrTime, Span } from "@opentelemetry/api";
import { STATUS_ERROR } from "../core/api.ts";
import type { Attributes } from "../core/types.ts";
import type { SemconvMode } from "../core/attributes.ts";
import { concatBytes } from "../core/bytes.ts";
import { recordError } from "../core/errors.ts";
import { observeBody } from "./observe.ts";
import { nowHrTime } from "../core/time.ts";
import { responseAttributes, ttftAttributes } from "../genai/attributes.ts";
import { type GenAIResponseInfo, parseResponseBody } from "../genai/openai.ts";
import { SseObserver } from "../genai/sse.ts";

/** Attribute: data events seen in a streamed answer. */
export const ATTR_RESPONSE_CHUNKS = "llmtrace.response.chunks";
/** Attribute: bytes of the response body that passed through. */
export const ATTR_RESPONSE_BODY_SIZE = "http.response.body.size";

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
   * Called once with the end time just before the span ends; it may return a
   * promise (e.g. a request body still being read) and the span then ends
   * with the recorded end time after it settles.
   */
  beforeEnd?: () => Promise<void> | void;
  /** Follow bodies of other content types too (end the span at body end). */
  coverAllBodies?: boolean;
  /** Called when the reader cancels (client gone) before the body ended. */
  onCancel?: (reason: unknown) => void;
  /** Called right after the span has ended. */
  afterEnd?: () => void;
  /**
   * The response came straight from `fetch`: its body is read as a byte
   * stream through one reused buffer (see `observeBody`).
   */
  fetched?: boolean;
}

/**
 * Ends `span` at `end`, after `beforeEnd` (which may be async) has run. Never
 * throws.
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
    span.end(end);
    try {
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

/** One span following a body, and what it needs when the body settles. */
type Follower = FollowOptions;

/** The one pass over a body that every following span shares. */
interface BodyWatch {
  followers: Follower[];
  settled: boolean;
}

/**
 * Responses this module already follows. A router that returns
 * `tracedFetch`'s response from a `traceHandler` handler would otherwise wrap
 * and parse the same stream twice; the server span joins the existing pass.
 */
const watched = new WeakMap<Response, BodyWatch>();

function applyInfo(f: Follower, info: GenAIResponseInfo): void {
  f.span.setAttributes(responseAttributes(info, f.mode, f.captureContent));
}

function sseInfo(sse: SseObserver): {
  info: GenAIResponseInfo;
  chunks: number;
} {
  const s = sse.summary;
  return {
    info: {
      id: s.id,
      model: s.model,
      finishReasons: s.finishReasons,
      inputTokens: s.inputTokens,
      outputTokens: s.outputTokens,
      cachedInputTokens: s.cachedInputTokens,
      outputText: s.outputText,
    },
    chunks: s.chunks,
  };
}

/**
 * Returns a response with the same status, headers and bytes whose body the
 * span follows to its end. Bodiless responses (and, unless
 * `coverAllBodies`, bodies that are neither JSON nor server-sent events) end
 * the span at once without touching the body, which keeps the runtime's fast
 * path for static bodies. A response already followed for another span is
 * returned as is, and this span joins that pass. Never throws; the caller's
 * response is never lost.
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
  const isJson = !isSse && ct.includes("json");
  // Reading `res.body` turns a static body into a stream: only when needed.
  const body = isSse || isJson || opts.coverAllBodies ? res.body : null;
  if (!body) {
    endSpan(opts.span, nowHrTime(), opts.beforeEnd, opts.afterEnd);
    return res;
  }
  const watch: BodyWatch = { followers: [opts], settled: false };
  const sse = isSse
    ? new SseObserver({ captureContent: opts.captureContent })
    : undefined;
  let parts: Uint8Array[] | undefined = isJson ? [] : undefined;
  let size = 0;
  let firstTokenSeen = false;

  const settle = (
    apply: (f: Follower, end: HrTime) => void,
  ) => {
    const end = nowHrTime();
    watch.settled = true;
    const sseResult = sse ? (sse.end(), sseInfo(sse)) : undefined;
    let jsonInfo: GenAIResponseInfo | undefined;
    if (parts && parts.length) {
      jsonInfo = parseResponseBody(concatBytes(parts, size));
    }
    for (const f of watch.followers) {
      try {
        const attrs: Attributes = { [ATTR_RESPONSE_BODY_SIZE]: size };
        if (sseResult) {
          attrs[ATTR_RESPONSE_CHUNKS] = sseResult.chunks;
          applyInfo(f, sseResult.info);
        }
        if (jsonInfo) applyInfo(f, jsonInfo);
        f.span.setAttributes(attrs);
        apply(f, end);
      } catch {
        // one span's trouble never affects another's, nor the body
      }
      endSpan(f.span, end, f.beforeEnd, f.afterEnd);
    }
  };

  const observed = observeBody(body, {
    onChunk(chunk) {
      size += chunk.byteLength;
      if (sse) {
        if (sse.push(chunk) && !firstTokenSeen) {
          firstTokenSeen = true;
          const now = performance.now();
          for (const f of watch.followers) {
            f.span.setAttributes(
              ttftAttributes((now - f.startedAt) / 1000, f.mode),
            );
          }
        }
      } else if (parts) {
        if (size > opts.maxJsonBytes) parts = undefined;
        else parts.push(chunk);
      }
    },
    onEnd() {
      settle(() => {});
    },
    onError(error) {
      settle((f) => {
        recordError(f.span, error, {
          fallbackType: "stream_error",
          messagePrefix: "response body failed: ",
        });
      });
    },
    onCancel(reason) {
      settle((f) => {
        f.span.setAttribute("error.type", "cancelled");
        f.span.setStatus({
          code: STATUS_ERROR,
          message: "the response body was cancelled before it ended" +
            (reason instanceof Error ? `: ${reason.message}` : ""),
        });
        f.onCancel?.(reason);
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
