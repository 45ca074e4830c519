// Shared by instrument_test.ts and manual_instrument_test.ts: wait for the
// spans a test made on the file's receiver; id and clock helpers.
import assert from "node:assert/strict";
import { forceFlush } from "../../src/sdk/tracer_provider.ts";
import type { OtlpReceiver, ReceivedSpan } from "../support/otlp_receiver.ts";

/** `spansNamed` and `oneSpan` on the receiver `rx()` returns. */
export function spanWaiters(rx: () => OtlpReceiver): {
  spansNamed(name: string, n?: number): Promise<ReceivedSpan[]>;
  oneSpan(name: string): Promise<ReceivedSpan>;
} {
  /** Flushes, then waits (bounded) for `n` spans named `name`. */
  async function spansNamed(name: string, n = 1): Promise<ReceivedSpan[]> {
    await forceFlush();
    const all = await rx().waitForSpans(
      (s) => s.filter((x) => x.name === name).length >= n,
      { timeoutMs: 10_000, message: `waiting for ${n} x ${name}` },
    );
    return all.filter((x) => x.name === name);
  }

  async function oneSpan(name: string): Promise<ReceivedSpan> {
    const spans = await spansNamed(name);
    assert.equal(spans.length, 1, `exactly one span named ${name}`);
    return spans[0];
  }

  return { spansNamed, oneSpan };
}

export const HEX32 = /^[0-9a-f]{32}$/;
export const HEX16 = /^[0-9a-f]{16}$/;
export const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
