/**
 * Follows a `Response` to its end on behalf of a span (server or client):
 * streamed answers pass through an observer that timestamps the first token,
 * counts chunks and reads usage; JSON answers are read as they pass; the span
 * ends when the body ends, fails or is cancelled.
 *
 * @module
 */
import { type HrTime, type Span, SpanStatusCode } from "@opentelemetry/api";
import type { Attributes } from "../types.ts";
import type { SemconvMode } from "../attributes.ts";
import { observeBody } from "../stream.ts";
import { nowHrTime } from "../time.ts";
import { responseAttributes, ttftAttributes } from "./attributes.ts";
import { type GenAIResponseInfo, parseResponseBody } from "./openai.ts";
import { SseObserver } from "./sse.ts";

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

function applySummary(
  span: Span,
  info: GenAIResponseInfo,
  opts: FollowOptions,
): void {
  span.setAttributes(responseAttributes(info, opts.mode, opts.captureContent));
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/**
 * Returns a response with the same status, headers and bytes whose body the
 * span follows to its end. Bodiless responses end the span at once. Never
 * throws; the caller's response is never lost.
 *
 * @param res The response to follow.
 * @param opts See {@link FollowOptions}.
 * @returns The response to hand on.
 */
export function followResponse(res: Response, opts: FollowOptions): Response {
  const { span } = opts;
  const body = res.body;
  const ct = res.headers.get("content-type") ?? "";
  const isSse = ct.includes("text/event-stream");
  const isJson = !isSse && ct.includes("json");
  if (!body || (!isSse && !isJson && !opts.coverAllBodies)) {
    endSpan(span, nowHrTime(), opts.beforeEnd, opts.afterEnd);
    return res;
  }
  const sse = isSse
    ? new SseObserver({ captureContent: opts.captureContent })
    : undefined;
  let parts: Uint8Array[] | undefined = isJson ? [] : undefined;
  let size = 0;
  let firstTokenSeen = false;
  const attrs: Attributes = {};

  const finishSse = () => {
    if (!sse) return;
    sse.end();
    const s = sse.summary;
    attrs[ATTR_RESPONSE_CHUNKS] = s.chunks;
    applySummary(span, {
      id: s.id,
      model: s.model,
      finishReasons: s.finishReasons,
      inputTokens: s.inputTokens,
      outputTokens: s.outputTokens,
      cachedInputTokens: s.cachedInputTokens,
      outputText: s.outputText,
    }, opts);
  };

  const observed = observeBody(body, {
    onChunk(chunk) {
      size += chunk.byteLength;
      if (sse) {
        if (sse.push(chunk) && !firstTokenSeen) {
          firstTokenSeen = true;
          span.setAttributes(
            ttftAttributes(
              (performance.now() - opts.startedAt) / 1000,
              opts.mode,
            ),
          );
        }
      } else if (parts) {
        if (size > opts.maxJsonBytes) parts = undefined;
        else parts.push(chunk);
      }
    },
    onEnd() {
      const end = nowHrTime();
      finishSse();
      if (parts && parts.length) {
        const info = parseResponseBody(concat(parts, size));
        if (info) applySummary(span, info, opts);
      }
      attrs[ATTR_RESPONSE_BODY_SIZE] = size;
      span.setAttributes(attrs);
      endSpan(span, end, opts.beforeEnd, opts.afterEnd);
    },
    onError(error) {
      const end = nowHrTime();
      finishSse();
      attrs[ATTR_RESPONSE_BODY_SIZE] = size;
      attrs["error.type"] = error instanceof Error
        ? error.name || "Error"
        : "stream_error";
      span.setAttributes(attrs);
      span.recordException(
        error instanceof Error ? error : { message: String(error) },
      );
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: "response body failed: " +
          (error instanceof Error ? error.message : String(error)),
      });
      endSpan(span, end, opts.beforeEnd, opts.afterEnd);
    },
    onCancel(reason) {
      const end = nowHrTime();
      finishSse();
      attrs[ATTR_RESPONSE_BODY_SIZE] = size;
      attrs["error.type"] = "cancelled";
      span.setAttributes(attrs);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: "the response body was cancelled before it ended" +
          (reason instanceof Error ? `: ${reason.message}` : ""),
      });
      try {
        opts.onCancel?.(reason);
      } catch {
        // observers never break the stream
      }
      endSpan(span, end, opts.beforeEnd, opts.afterEnd);
    },
  });
  return new Response(observed, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}
