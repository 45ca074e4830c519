/**
 * One request's GenAI measurement, from what its span saw, handed to the
 * metrics sink (`core/measurement_sink.ts`) when the span ends. With metrics off this
 * is one `undefined` check.
 *
 * @module
 */
import {
  type GenAIMeasurement,
  measurementSink,
} from "../core/measurement_sink.ts";
import type { GenAIResponseInfo } from "../genai/openai_response.ts";
import { boundValue } from "../core/limits.ts";
import type { ChunkGaps } from "../core/chunk_gaps.ts";

/**
 * Served requests a handler forwarded with `tracedFetch(..., { request })`:
 * their handler is a router, not a model server. A router's SERVER span
 * feeds no `gen_ai.server.*` instrument (it would measure the upstream plus
 * the network, and the engine counts the same request again); its view of
 * the upstream is in the client metrics of its `tracedFetch` calls.
 */
const forwarded = new WeakSet<Request>();

/** Notes that the served `req` was forwarded upstream (see {@link forwarded}). */
export function markForwarded(req: Request): void {
  forwarded.add(req);
}

/** Whether the served `req` was forwarded upstream by its handler. */
export function wasForwarded(req: Request): boolean {
  return forwarded.has(req);
}

/** How a followed response ended. */
export interface Outcome {
  /** `performance.now()` when the body ended (or the span, for no body). */
  endedAt: number;
  /** Seconds from the request's start to the first content (streams). */
  ttftS?: number;
  /** What the response said (usage, model). */
  info?: GenAIResponseInfo;
  /** Why the body did not end normally (an error's name; a cancel has none). */
  errorType?: string;
  /** A client stream's gaps between chunks, when measured. */
  chunkGaps?: ChunkGaps;
}

/** What a request path knows of its request before it ends. */
export interface MeasureBase {
  kind: "server" | "client";
  operation: string;
  provider?: string;
  serverAddress?: string;
  serverPort?: number;
  /** The served request (server), for counting a request once. */
  requestKey?: object;
}

/**
 * Reports the measurement of a request that started at `startedAt`
 * (`performance.now()`), if metrics are on.
 *
 * @param base What was known at the start.
 * @param startedAt When the request started.
 * @param outcome How its response ended (none when there was no response).
 * @param requestModel The requested model, once the body was read.
 * @param errorType The error seen outside the body (a status, a thrown
 * error's name); the body's own error wins.
 */
export function reportMeasurement(
  base: MeasureBase,
  startedAt: number,
  outcome: Outcome | undefined,
  requestModel: string | undefined,
  errorType: string | undefined,
): void {
  const sink = measurementSink;
  if (!sink) return;
  const info = outcome?.info;
  const m: GenAIMeasurement = {
    ...base,
    durationS: ((outcome?.endedAt ?? performance.now()) - startedAt) / 1000,
    ttftS: outcome?.ttftS,
    chunkGaps: outcome?.chunkGaps,
    inputTokens: info?.inputTokens,
    outputTokens: info?.outputTokens,
    cacheReadInputTokens: info?.cachedInputTokens,
    cacheWriteInputTokens: info?.cacheWriteInputTokens,
    reasoningOutputTokens: info?.reasoningOutputTokens,
    requestModel: requestModel && boundValue(requestModel),
    responseModel: info?.model && boundValue(info.model),
    errorType: outcome?.errorType ?? errorType,
  };
  sink(m);
}
