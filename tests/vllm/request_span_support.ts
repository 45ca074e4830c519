/**
 * Shared by the recordRequestSpan tests of this folder: wait for the one
 * llm_request span of a request id, and make unique request ids.
 *
 * @module
 */
import assert from "node:assert/strict";
import { forceFlush } from "../../mod.ts";
import type { OtlpReceiver, ReceivedSpan } from "../support/otlp_receiver.ts";

/**
 * Flushes and waits (bounded) for the llm_request span of `requestId`;
 * fails unless exactly one arrived.
 */
export async function spanOfRequest(
  receiver: OtlpReceiver,
  requestId: string,
): Promise<ReceivedSpan> {
  await forceFlush();
  const all = await receiver.waitForSpans(
    (s) => s.some((x) => x.attributes["gen_ai.request.id"] === requestId),
    { timeoutMs: 10_000, message: `llm_request ${requestId}` },
  );
  const found = all.filter((x) =>
    x.attributes["gen_ai.request.id"] === requestId
  );
  assert.equal(found.length, 1, `one span for ${requestId}`);
  return found[0];
}

/** A maker of unique request ids: `req-<label>-<n>-<now>`. */
export function requestIds(): (label: string) => string {
  let seq = 0;
  return (label) => `req-${label}-${++seq}-${Date.now()}`;
}
