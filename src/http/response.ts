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
import { concatBytes } from "../core/bytes.ts";
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
import type { Outcome } from "./measure.ts";
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
 * `tracedFetch`'s response from a `traceHandler` handler would otherwise wrap
 * and parse the same stream twice; the server span joins the existing pass.
 */
const watched = new WeakMap<Response, BodyWatch>();

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
    const outcome: Outcome = { endedAt: performance.now() };
    endSpan(
      opts.span,
      nowHrTime(),
      opts.beforeEnd,
      () => opts.afterEnd?.(outcome),
    );
    return res;
  }
  const watch: BodyWatch = { followers: [opts], settled: false };
  const stream = isSse
    ? new OpenAIStreamReader({ captureContent: opts.captureContent })
    : undefined;
  let parts: Uint8Array[] | undefined = isJson ? [] : undefined;
  let size = 0;
  let firstContentAt: number | undefined;

  const settle = (
    apply: (f: FollowOptions) => void,
    errorType?: string,
  ) => {
    const endedAt = performance.now();
    const end = nowHrTime();
    watch.settled = true;
    stream?.end();
    const attrs: Attributes = { [HTTP_RESPONSE_BODY_SIZE]: size };
    let info: GenAIResponseInfo | undefined;
    if (stream) {
      const streamed = stream.info;
      info = streamed;
      attrs[LLMTRACE_RESPONSE_CHUNKS] = streamed.chunks;
    } else if (parts?.length) {
      info = parseResponseBody(concatBytes(parts, size));
    }
    for (const f of watch.followers) {
      try {
        if (info) {
          f.span.setAttributes(
            responseAttributes(info, f.mode, f.captureContent),
          );
        }
        f.span.setAttributes(attrs);
        apply(f);
      } catch {
        // one span's trouble never affects another's, nor the body
      }
      const after = f.afterEnd;
      const outcome: Outcome = {
        endedAt,
        info,
        errorType,
        ttftS: firstContentAt === undefined
          ? undefined
          : (firstContentAt - f.startedAt) / 1000,
      };
      endSpan(f.span, end, f.beforeEnd, after && (() => after(outcome)));
    }
  };

  const observed = observeBody(body, {
    onChunk(chunk) {
      size += chunk.byteLength;
      if (stream) {
        if (stream.push(chunk)) {
          const now = firstContentAt = performance.now();
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
      }, error instanceof Error ? error.name || "Error" : "stream_error");
    },
    onCancel(reason) {
      // A reader that stops after the terminal event (the openai client
      // cancels after `data: [DONE]`) has the whole answer: a normal end.
      if (stream?.complete) return settle(() => {});
      settle((f) => {
        f.span.setAttribute(ERROR_TYPE, "cancelled");
        f.span.setStatus({
          code: STATUS_ERROR,
          message: "the response body was cancelled before it ended" +
            (reason instanceof Error ? `: ${reason.message}` : ""),
        });
      }, "cancelled");
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
