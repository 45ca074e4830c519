// propagateTraceToEnv under concurrent async callers: the environment is
// global, so overlapping calls race; whatever order they end in, the previous
// values must come back once the last one ends, and while several run the
// environment shows the newest one still running. traceEnv() is the safe way
// under concurrency: it never touches the environment.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { propagateTraceToEnv, traceEnv } from "../../mod.ts";

function ctxFor(i: number) {
  const hex = (n: number, len: number) => n.toString(16).padStart(len, "0");
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: hex(0x1000 + i, 32),
    spanId: hex(0x2000 + i, 16),
    traceFlags: 1,
  });
}

function traceparentOf(i: number): string {
  return traceEnv(ctxFor(i)).traceparent!;
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])
  );
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const ORIGINALS: [string | undefined, string | undefined][] = [
  [undefined, undefined],
  [
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "congo=t61rcWkgMzE",
  ],
];

for (const [origTp, origTs] of ORIGINALS) {
  test(
    `three overlapping callers, every end order: the env comes back (${
      origTp ? "set" : "unset"
    } before)`,
    async () => {
      const savedTp = process.env.traceparent;
      const savedTs = process.env.tracestate;
      try {
        for (const order of permutations([0, 1, 2])) {
          if (origTp === undefined) delete process.env.traceparent;
          else process.env.traceparent = origTp;
          if (origTs === undefined) delete process.env.tracestate;
          else process.env.tracestate = origTs;

          const gates = [deferred(), deferred(), deferred()];
          const seenInside: (string | undefined)[] = [];
          const running = new Set<number>();
          const calls = [0, 1, 2].map((i) => {
            running.add(i);
            return propagateTraceToEnv(async () => {
              seenInside[i] = process.env.traceparent;
              await gates[i].promise;
              return i;
            }, ctxFor(i));
          });
          // Each caller saw its own trace when it started.
          for (const i of [0, 1, 2]) {
            assert.equal(seenInside[i], traceparentOf(i));
          }
          for (const i of order) {
            gates[i].resolve();
            assert.equal(await calls[i], i);
            running.delete(i);
            const newest = Math.max(...running);
            assert.equal(
              process.env.traceparent,
              running.size ? traceparentOf(newest) : origTp,
              `order ${order.join(",")}: after ${i} ended`,
            );
          }
          assert.equal(
            process.env.traceparent,
            origTp,
            `order ${order.join(",")}`,
          );
          assert.equal(
            process.env.tracestate,
            origTs,
            `order ${order.join(",")}`,
          );
        }
      } finally {
        if (savedTp === undefined) {
          delete process.env.traceparent;
        } else process.env.traceparent = savedTp;
        if (savedTs === undefined) delete process.env.tracestate;
        else process.env.tracestate = savedTs;
      }
    },
  );
}

test("a throwing sync fn and a rejecting async fn restore the env too", async () => {
  const saved = process.env.traceparent;
  delete process.env.traceparent;
  try {
    assert.throws(
      () =>
        propagateTraceToEnv(() => {
          throw new Error("sync boom");
        }, ctxFor(7)),
      /sync boom/,
    );
    assert.equal(process.env.traceparent, undefined);
    const slow = propagateTraceToEnv(
      () => new Promise((r) => setTimeout(r, 20)),
      ctxFor(8),
    );
    await assert.rejects(
      propagateTraceToEnv(
        () => Promise.reject(new Error("async boom")),
        ctxFor(9),
      ),
      /async boom/,
    );
    // The rejecting caller ended; the slow one still runs and still shows.
    assert.equal(process.env.traceparent, traceparentOf(8));
    await slow;
    assert.equal(process.env.traceparent, undefined);
  } finally {
    if (saved === undefined) delete process.env.traceparent;
    else process.env.traceparent = saved;
  }
});

test("traceEnv never touches the environment, so concurrent callers cannot mix", async () => {
  const before = process.env.traceparent;
  const results = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, (i * 7) % 13));
      return traceEnv(ctxFor(i)).traceparent;
    }),
  );
  results.forEach((tp, i) => assert.equal(tp, traceparentOf(i)));
  assert.equal(new Set(results).size, 50);
  assert.equal(process.env.traceparent, before);
});
