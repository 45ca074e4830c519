/**
 * The measurement slot the request paths report into: `traceHandler`,
 * `tracedFetch` and `recordRequestSpan` call {@link measurementSink} once per
 * request when it is set. Nothing here imports the SDK; with metrics off the
 * sink is `undefined` and a call site pays one `undefined` check.
 *
 * @module
 */
import type { ChunkGaps } from "./chunk_gaps.ts";

/**
 * What one request measured, in seconds and tokens, with the attributes the
 * GenAI metric conventions put on every data point.
 */
export interface GenAIMeasurement {
  /** Who measured: `traceHandler` (server), `tracedFetch` (client), `recordRequestSpan` (engine). */
  kind: "server" | "client" | "engine";
  /** server: request duration (to the last byte); client: operation duration; engine: end to end. */
  durationS: number;
  /** Time to the first token (server, engine) or the first chunk (client). Streamed responses only, except engine. */
  ttftS?: number;
  /**
   * Time per output token after the first. When omitted it is derived as
   * `(durationS − ttftS) / (outputTokens − 1)`, only when `outputTokens > 1`.
   */
  tpotS?: number;
  /**
   * client streams, when {@link chunkGapsWanted}: the gaps between chunks
   * after the first (`gen_ai.client.inference.time_per_output_chunk`).
   */
  chunkGaps?: ChunkGaps;
  /** engine only: time waiting in the queue. */
  queueS?: number;
  /** engine only: prefill time. */
  prefillS?: number;
  /** engine only: decode time. */
  decodeS?: number;
  /** engine only: time running (prefill + decode). */
  inferenceS?: number;
  /** Input (prompt) tokens, as the provider counted them. */
  inputTokens?: number;
  /** Output (completion) tokens. */
  outputTokens?: number;
  /** Input tokens served from a cache (a subset of `inputTokens`). */
  cacheReadInputTokens?: number;
  /** Input tokens written to a cache (a subset of `inputTokens`). */
  cacheWriteInputTokens?: number;
  /** Output tokens spent on reasoning (a subset of `outputTokens`). */
  reasoningOutputTokens?: number;
  /** `gen_ai.operation.name`, e.g. `"chat"`, `"text_completion"`, `"embeddings"`. */
  operation: string;
  /** `gen_ai.provider.name`; the metrics' default provider when omitted. */
  provider?: string;
  /** `gen_ai.request.model`. */
  requestModel?: string;
  /** `gen_ai.response.model`. */
  responseModel?: string;
  /** `server.address`: the GenAI server (client: the upstream; server/engine: this server). */
  serverAddress?: string;
  /** `server.port`; recorded only together with `serverAddress`. */
  serverPort?: number;
  /** `error.type` when the request failed (an error name, an HTTP status, `"_OTHER"`). */
  errorType?: string;
  /**
   * The incoming `Request` (or any object standing for the request) that
   * `traceHandler` and `recordRequestSpan` both see: lets the metrics count
   * one request once in the `gen_ai.server.*` instruments when both report it.
   */
  requestKey?: object;
}

/**
 * The function the request paths call with each finished request's
 * measurement, or `undefined` while metrics are off. Read it at the call site:
 * `if (measurementSink) measurementSink({...})`. Set by the metrics module
 * through {@link setMeasurementSink}. A sink never throws.
 */
export let measurementSink: ((m: GenAIMeasurement) => void) | undefined;

/**
 * Installs (or, with `undefined`, removes) the measurement sink.
 *
 * @param fn The sink, or `undefined` to turn measuring off.
 * @param chunkGaps The sink records the gaps between a stream's chunks.
 */
export function setMeasurementSink(
  fn: ((m: GenAIMeasurement) => void) | undefined,
  chunkGaps = false,
): void {
  measurementSink = fn;
  chunkGapsWanted = fn !== undefined && chunkGaps;
}

/**
 * Whether the sink records `gen_ai.client.inference.time_per_output_chunk`
 * (the latest conventions): only then does a client's stream measure the
 * gaps between its chunks.
 */
export let chunkGapsWanted = false;

let flushHook: (() => Promise<void>) | undefined;

/**
 * Installs (or removes) how recorded measurements are exported now (the
 * metrics pipeline's flush). @internal
 */
export function setMeasurementFlush(
  fn: (() => Promise<void>) | undefined,
): void {
  flushHook = fn;
}

/**
 * Exports the measurements recorded so far, for the request paths that must
 * flush themselves (workerd's `waitUntil`). Never rejects; a no-op while
 * metrics are off. @internal
 */
export function flushMeasurements(): Promise<void> {
  return flushHook ? flushHook().catch(() => {}) : Promise.resolve();
}
