// Export failures: spans beyond the queue bound are dropped and reported
// (diag or console); a collector answering 503/429 gets the same batch again,
// a bounded number of times; 400/413 are not retried; forceFlush() resolves
// when the batch is refused. Each test builds its own provider against a real
// OTLP receiver or a dead port; see tests/support/reliability.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { forceFlush } from "../../src/sdk/tracer_provider.ts";
import {
  type InjectedResponse,
  type OtlpReceiver,
  startOtlpReceiver,
} from "../support/otlp_receiver.ts";
import { captureWarnings, sleep } from "../support/helpers.ts";
import { deadPort } from "../support/servers.ts";
import {
  captureDiag,
  names,
  settleTime,
  useReliabilityHooks,
  waitFor,
  withTracing,
} from "../support/reliability.ts";

const unhandled = useReliabilityHooks();

test("collector down: spans beyond OTEL_BSP_MAX_QUEUE_SIZE are dropped, reported by diag as one counted warning", async () => {
  const port = await deadPort();
  const log = captureDiag();
  try {
    await withTracing(
      "test.reliability.queue",
      `http://127.0.0.1:${port}/v1/traces`,
      {
        OTEL_BSP_MAX_QUEUE_SIZE: "50", // set BEFORE initTracer
        OTEL_EXPORTER_OTLP_TIMEOUT: "1500",
        OTEL_BSP_SCHEDULE_DELAY: "50",
      },
      async (tracer) => {
        // A burst of 200 while the queue holds 50: at least 100 are dropped
        // (50 may leave in the batch the 50th span triggers, 50 queue up).
        for (let i = 0; i < 200; i++) tracer.startSpan(`burst_${i}`).end();
        // The SDK reports the count when the next span is queued after the
        // failed export has drained the queue.
        const deadline = Date.now() + 15_000;
        while (!log.lines.some((l) => /Dropped \d+ spans/.test(l))) {
          assert.ok(Date.now() < deadline, "no 'Dropped N spans' warning");
          tracer.startSpan("probe").end();
          await sleep(100);
        }
      },
    );
    const dropped = log.lines.filter((l) => /Dropped \d+ spans/.test(l));
    assert.ok(
      dropped.every((l) => l.startsWith("warn ")),
      dropped.join("\n"),
    );
    const total = dropped.reduce(
      (n, l) => n + Number(/Dropped (\d+) spans/.exec(l)![1]),
      0,
    );
    assert.ok(total >= 100 && total <= 200, `dropped ${total}`);
    assert.ok(
      dropped.length <= 5,
      `one line per drop, not per span: ${dropped.length} lines`,
    );
    assert.ok(log.lines.length < 60, `${log.lines.length} diag lines`);
  } finally {
    log.stop();
  }
});

test(
  "collector down: dropped spans are visible without registering a diag logger",
  // The console logger holds repeats back for 10 s: the drop count comes
  // with the first line after that.
  { timeout: 30_000 },
  async () => {
    const port = await deadPort();
    // On the console, as a warning or as part of an error line (the logger
    // writes one line per window, at the level of the message opening it).
    const warnings: string[] = [];
    const original = { warn: console.warn, error: console.error };
    console.warn = console.error = (...a: unknown[]) =>
      void warnings.push(a.map(String).join(" "));
    try {
      await withTracing(
        "test.reliability.queue_console",
        `http://127.0.0.1:${port}/v1/traces`,
        {
          OTEL_BSP_MAX_QUEUE_SIZE: "50",
          OTEL_EXPORTER_OTLP_TIMEOUT: "1500",
          OTEL_BSP_SCHEDULE_DELAY: "50",
        },
        async (tracer) => {
          for (let i = 0; i < 200; i++) tracer.startSpan(`burst_${i}`).end();
          const deadline = Date.now() + 20_000;
          while (
            !warnings.some((w) => /dropped/i.test(w) && /spans/.test(w))
          ) {
            if (Date.now() > deadline) break;
            tracer.startSpan("probe").end();
            await sleep(100);
          }
        },
      );
    } finally {
      Object.assign(console, original);
    }
    assert.ok(
      warnings.some((w) => /dropped/i.test(w) && /spans/.test(w)),
      `no console warning about dropped spans; got ${JSON.stringify(warnings)}`,
    );
  },
);

/** A receiver whose answer the test switches as it goes. */
async function flakyReceiver(): Promise<{
  rx: OtlpReceiver;
  set(f: (index: number) => InjectedResponse | undefined): void;
}> {
  let answer: (index: number) => InjectedResponse | undefined = () => undefined;
  const rx = await startOtlpReceiver({ respond: ({ index }) => answer(index) });
  return { rx, set: (f) => (answer = f) };
}

const FLAKY_ENV = {
  OTEL_EXPORTER_OTLP_TIMEOUT: "6000",
  // Only forceFlush exports, so each batch is the test's own.
  OTEL_BSP_SCHEDULE_DELAY: "600000",
};

test("collector down mid-run (503) and back: spans produced after it returns arrive; the retried batch too", async () => {
  const { rx, set } = await flakyReceiver();
  try {
    await withTracing(
      "test.reliability.flaky",
      rx.url,
      FLAKY_ENV,
      async (tracer) => {
        let down = true;
        set(() => (down ? { status: 503 } : undefined));
        for (let i = 0; i < 5; i++) tracer.startSpan(`before_${i}`).end();
        const firstFlush = forceFlush();
        await waitFor(() => rx.requests().length >= 1, 5000, "a first export");
        assert.equal(rx.requests()[0].status, 503);
        down = false;
        for (let i = 0; i < 5; i++) tracer.startSpan(`after_${i}`).end();
        await forceFlush();
        await firstFlush;
        const got = names(rx.spans());
        for (let i = 0; i < 5; i++) {
          assert.ok(got.has(`after_${i}`), `after_${i} lost`);
          assert.ok(got.has(`before_${i}`), `before_${i} not retried`);
        }
        const reqs = rx.requests();
        const rejected = reqs.filter((r) => r.status === 503);
        assert.ok(rejected.length >= 1);
        // The 503'd batch came again, whole.
        assert.ok(
          reqs.some((r) =>
            r.status === 200 && r.spanCount === rejected[0].spanCount &&
            r.bodyBytes === rejected[0].bodyBytes
          ),
          JSON.stringify(reqs.map((r) => [r.status, r.spanCount, r.bodyBytes])),
        );
      },
    );
  } finally {
    await rx.close();
  }
});

for (
  const [label, injected] of [
    ["503 with Retry-After", { status: 503, headers: { "retry-after": "1" } }],
    ["429", { status: 429 }],
  ] as const
) {
  test(`${label} is retried: the receiver sees the same batch again`, async () => {
    const { rx, set } = await flakyReceiver();
    try {
      await withTracing(
        "test.reliability.retry",
        rx.url,
        FLAKY_ENV,
        async (tracer) => {
          set((index) => (index === 0 ? injected : undefined));
          for (let i = 0; i < 3; i++) tracer.startSpan(`retry_${i}`).end();
          await forceFlush();
          const reqs = rx.requests();
          assert.deepEqual(reqs.map((r) => r.status), [injected.status, 200]);
          assert.equal(reqs[1].bodyBytes, reqs[0].bodyBytes);
          assert.equal(reqs[1].spanCount, 3);
          assert.deepEqual(
            rx.spans().map((s) => s.name).sort(),
            ["retry_0", "retry_1", "retry_2"],
          );
        },
      );
    } finally {
      await rx.close();
    }
  });
}

test("a collector that always answers 503 gets a bounded number of attempts per batch", async () => {
  const { rx, set } = await flakyReceiver();
  try {
    await withTracing(
      "test.reliability.bounded",
      rx.url,
      FLAKY_ENV,
      async (tracer) => {
        // Retry-After: 0 retries at once, so only the attempt limit stops it.
        set(() => ({ status: 503, headers: { "retry-after": "0" } }));
        tracer.startSpan("doomed").end();
        // forceFlush() settles (it never rejects).
        await settleTime(forceFlush());
        const n = rx.requests().length;
        assert.ok(n >= 2 && n <= 6, `${n} attempts`);
        await sleep(300);
        assert.equal(
          rx.requests().length,
          n,
          "attempts went on after the flush",
        );
        assert.equal(rx.spans().length, 0);
      },
    );
  } finally {
    await rx.close();
  }
});

for (const status of [400, 413]) {
  test(`${status} is not retried`, async () => {
    const { rx, set } = await flakyReceiver();
    try {
      await withTracing(
        "test.reliability.noretry",
        rx.url,
        FLAKY_ENV,
        async (tracer) => {
          set(() => ({ status }));
          tracer.startSpan(`rejected_${status}`).end();
          await settleTime(forceFlush());
          // Longer than the first retry backoff (1 s ± 20%).
          await sleep(1400);
          assert.deepEqual(rx.requests().map((r) => r.status), [status]);
        },
      );
    } finally {
      await rx.close();
    }
  });
}

test(
  "forceFlush() resolves when the collector refuses the batch, warns naming the endpoint, and the next flush delivers",
  async () => {
    const { rx, set } = await flakyReceiver();
    try {
      await withTracing(
        "test.reliability.flush_reject",
        rx.url,
        FLAKY_ENV,
        async (tracer) => {
          set(() => ({ status: 400 }));
          tracer.startSpan("refused").end();
          const { result: settled, warnings } = await captureWarnings(() =>
            settleTime(forceFlush())
          );
          assert.equal(settled.rejected, false);
          // The receiver saw the batch once and refused it; the user is told
          // where the spans did not go, and why.
          assert.deepEqual(
            rx.requests().map((r) => [r.status, r.spanCount]),
            [[400, 1]],
          );
          assert.ok(
            warnings.some((w) =>
              w.includes(`spans could not be exported to ${rx.url}`) &&
              w.includes("400")
            ),
            JSON.stringify(warnings),
          );
          // The pipeline is not stuck: once the collector accepts, the next
          // flush delivers the next span.
          set(() => undefined);
          tracer.startSpan("accepted").end();
          await forceFlush();
          assert.deepEqual(rx.spans().map((s) => s.name), ["accepted"]);
        },
      );
    } finally {
      await rx.close();
    }
  },
);

test("no unhandled promise rejection happened in this file", async () => {
  await sleep(50);
  assert.deepEqual(unhandled.map(String), []);
});
