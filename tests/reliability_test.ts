// Reliability: what an app traced by llmtrace sees when the collector is
// down, flaky or slow; shutdown and exit (in-process, child processes,
// SIGTERM); hostile request bodies through traceHandler; API misuse.
//
// Each test builds its own provider (one at a time: initTracer ... then
// shutdownTracing()) against a real OTLP receiver or a dead loopback port,
// and restores every environment variable it sets.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  diag,
  DiagLogLevel,
  ROOT_CONTEXT,
  type Tracer,
} from "@opentelemetry/api";
import {
  forceFlush,
  initTracer,
  isTracingEnabled,
  shutdownTracing,
} from "../src/sdk/provider.ts";
import { traceHandler } from "../src/http/server.ts";
import { tracedFetch } from "../src/http/client.ts";
import { instrument } from "../src/vllm/instrument.ts";
import { manualInstrument } from "../src/vllm/manual_instrument.ts";
import { recordRequestSpan } from "../src/vllm/request_span.ts";
import { traceEnv } from "../src/vllm/env.ts";
import { deadPort, type RunningServer, serve } from "../examples/serve.ts";
import {
  type InjectedResponse,
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from "./support/otlp_receiver.ts";
import {
  CLEAN_ENV,
  concatBytes,
  isDeno,
  lastJson,
  repoRoot,
  runFixture,
  setEnv,
  sleep,
} from "./support/helpers.ts";

// ---------------------------------------------------------------------------
// Unhandled promise rejections, anywhere in this file
// ---------------------------------------------------------------------------

const unhandled: unknown[] = [];
const onNodeRejection = (reason: unknown) => {
  unhandled.push(reason);
};
const onWebRejection = (e: PromiseRejectionEvent) => {
  e.preventDefault();
  unhandled.push(e.reason);
};

before(() => {
  assert.equal(isTracingEnabled(), false, "no provider left by another file");
  if (isDeno) globalThis.addEventListener("unhandledrejection", onWebRejection);
  else process.on("unhandledRejection", onNodeRejection);
});

after(async () => {
  await shutdownTracing().catch(() => {});
  diag.disable();
  if (isDeno) {
    globalThis.removeEventListener("unhandledrejection", onWebRejection);
  } else process.off("unhandledRejection", onNodeRejection);
});

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** True while a test captures `diag` itself (initTracer must not replace it). */
let diagCaptured = false;

/** Collects `diag` output (all levels down to info) while a test runs. */
function captureDiag(): { lines: string[]; stop(): void } {
  const lines: string[] = [];
  diagCaptured = true;
  const at = (level: string) => (msg: string, ...args: unknown[]) => {
    lines.push(`${level} ${msg}${args.length ? " " + args.join(" ") : ""}`);
  };
  diag.setLogger({
    error: at("error"),
    warn: at("warn"),
    info: at("info"),
    debug: () => {},
    verbose: () => {},
  }, { logLevel: DiagLogLevel.INFO, suppressOverrideMessage: true });
  return {
    lines,
    stop: () => {
      diagCaptured = false;
      diag.disable();
    },
  };
}

/** Builds a provider with `env` set, runs `fn`, always shuts down and restores. */
async function withTracing<T>(
  name: string,
  url: string,
  env: Record<string, string | undefined>,
  fn: (tracer: Tracer) => Promise<T>,
): Promise<T> {
  const restore = setEnv({ ...CLEAN_ENV, ...env });
  try {
    const tracer = await initTracer(
      name,
      url,
      undefined,
      diagCaptured ? { diagLogger: null } : {},
    );
    return await fn(tracer);
  } finally {
    try {
      await shutdownTracing().catch(() => {});
    } finally {
      restore();
    }
  }
}

/** Resolves with how long `p` took to settle, and whether it rejected. */
async function settleTime(
  p: Promise<unknown>,
): Promise<{ ms: number; rejected: boolean }> {
  const t0 = performance.now();
  let rejected = false;
  await p.catch(() => (rejected = true));
  return { ms: performance.now() - t0, rejected };
}

/** Polls `cond` every 20 ms until true; fails after `timeoutMs`. */
async function waitFor(
  cond: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    }
    await sleep(20);
  }
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A mock chat completion that echoes what it was asked. */
async function chatApp(req: Request): Promise<Response> {
  const body = await req.json();
  return Response.json({
    id: `cmpl-${body.i}`,
    object: "chat.completion",
    model: body.model,
    choices: [{
      index: 0,
      finish_reason: "stop",
      message: { role: "assistant", content: `answer ${body.i}` },
    }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  });
}

async function chat(
  server: RunningServer,
  i: number,
): Promise<{ ms: number; ok: boolean }> {
  const t0 = performance.now();
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: `m${i % 3}`, i, messages: [] }),
  });
  const json = await res.json();
  const ms = performance.now() - t0;
  const ok = res.status === 200 && json.id === `cmpl-${i}` &&
    json.model === `m${i % 3}` &&
    json.choices[0].message.content === `answer ${i}`;
  return { ms, ok };
}

/** Sends `n` chat requests, `concurrency` at a time; every answer must be right. */
async function chatMany(
  server: RunningServer,
  n: number,
  concurrency: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i += concurrency) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + concurrency); j++) {
      batch.push(chat(server, j));
    }
    for (const [k, r] of (await Promise.all(batch)).entries()) {
      assert.ok(r.ok, `request ${i + k} was answered wrongly`);
      times.push(r.ms);
    }
  }
  return times;
}

const names = (spans: ReceivedSpan[]) => new Set(spans.map((s) => s.name));

// ---------------------------------------------------------------------------
// Collector down from the start
// ---------------------------------------------------------------------------

test("collector down from the start: the app answers every request, none waits for the collector", async () => {
  const port = await deadPort();
  const TIMEOUT = 2000;
  const log = captureDiag();
  let server: RunningServer | undefined;
  try {
    await withTracing(
      "test.reliability.down",
      `http://127.0.0.1:${port}/v1/traces`,
      {
        OTEL_EXPORTER_OTLP_TIMEOUT: String(TIMEOUT),
        OTEL_BSP_SCHEDULE_DELAY: "50",
      },
      async () => {
        server = await serve(
          traceHandler(chatApp, { route: "/v1/chat/completions" }),
        );
        const times = await chatMany(server, 120, 8);
        assert.equal(times.length, 120);
        const slowest = Math.max(...times);
        assert.ok(
          slowest < TIMEOUT / 2,
          `a request took ${slowest.toFixed(0)}ms: it waited for the collector`,
        );
        // The exporter really tried (and failed) meanwhile.
        await waitFor(
          () => log.lines.some((l) => /export/i.test(l)),
          TIMEOUT * 3,
          "an export failure in the diag log",
        );
        const s = await settleTime(shutdownTracing());
        assert.ok(
          s.ms < TIMEOUT * 3 + 3000,
          `shutdownTracing() took ${s.ms.toFixed(0)}ms with the collector down`,
        );
      },
    );
  } finally {
    log.stop();
    await server?.close();
  }
});

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

// ---------------------------------------------------------------------------
// Collector flaky: 503 for a while, Retry-After, 429, 400, 413
// ---------------------------------------------------------------------------

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
  "forceFlush() resolves when the collector refuses the batch",
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
          await forceFlush();
        },
      );
    } finally {
      await rx.close();
    }
  },
);

// ---------------------------------------------------------------------------
// Collector slow
// ---------------------------------------------------------------------------

test("collector slower than OTEL_EXPORTER_OTLP_TIMEOUT: exports time out, requests don't wait, shutdown is bounded", async () => {
  const TIMEOUT = 300;
  const rx = await startOtlpReceiver({
    respond: () => ({ status: 200, delayMs: 8000 }),
  });
  let server: RunningServer | undefined;
  try {
    await withTracing("test.reliability.slow", rx.url, {
      OTEL_EXPORTER_OTLP_TIMEOUT: String(TIMEOUT),
      OTEL_BSP_SCHEDULE_DELAY: "20",
    }, async () => {
      server = await serve(
        traceHandler(chatApp, { route: "/v1/chat/completions" }),
      );
      const times = await chatMany(server, 40, 4);
      await waitFor(() => rx.requests().length >= 1, 5000, "an export");
      times.push(...await chatMany(server, 40, 4));
      const slowest = Math.max(...times);
      assert.ok(slowest < 2000, `a request took ${slowest.toFixed(0)}ms`);
      // A flush does not wait for the 8 s answer: the export times out.
      const f = await settleTime(forceFlush());
      assert.ok(f.ms < TIMEOUT * 4 + 1500, `forceFlush took ${f.ms}ms`);
      const s = await settleTime(shutdownTracing());
      assert.ok(
        s.ms < TIMEOUT * 4 + 1500,
        `shutdownTracing() took ${s.ms.toFixed(0)}ms`,
      );
      // Nothing was answered yet: every span export was abandoned.
      const traces = rx.requests().filter((r) => r.path === "/v1/traces");
      assert.ok(traces.length > 0);
      assert.ok(traces.every((r) => r.status === 0));
    });
  } finally {
    await server?.close();
    await rx.close();
  }
});

// ---------------------------------------------------------------------------
// Shutdown and exit
// ---------------------------------------------------------------------------

test("shutdownTracing() exports all 500 finished spans", async () => {
  const rx = await startOtlpReceiver();
  try {
    await withTracing(
      "test.reliability.shutdown",
      rx.url,
      {},
      async (tracer) => {
        for (let i = 0; i < 500; i++) tracer.startSpan(`fin_${i}`).end();
        await shutdownTracing();
        const got = names(rx.spans());
        assert.equal(rx.spans().length, 500);
        for (let i = 0; i < 500; i++) assert.ok(got.has(`fin_${i}`));
      },
    );
  } finally {
    await rx.close();
  }
});

test("shutdownTracing() with the collector down settles within a bound", async () => {
  const port = await deadPort();
  const TIMEOUT = 1000;
  await withTracing(
    "test.reliability.shutdown_dead",
    `http://127.0.0.1:${port}/v1/traces`,
    {
      OTEL_EXPORTER_OTLP_TIMEOUT: String(TIMEOUT),
    },
    async (tracer) => {
      for (let i = 0; i < 100; i++) tracer.startSpan(`dead_${i}`).end();
      const s = await settleTime(shutdownTracing());
      assert.ok(s.ms < TIMEOUT * 3 + 3000, `took ${s.ms.toFixed(0)}ms`);
    },
  );
});

test(
  "shutdownTracing() with the collector down resolves instead of rejecting",
  async () => {
    const port = await deadPort();
    await withTracing(
      "test.reliability.shutdown_reject",
      `http://127.0.0.1:${port}/v1/traces`,
      {
        OTEL_EXPORTER_OTLP_TIMEOUT: "1000",
      },
      async (tracer) => {
        for (let i = 0; i < 10; i++) tracer.startSpan(`dead_${i}`).end();
        await shutdownTracing();
      },
    );
  },
);

function childEnv(
  vars: Record<string, string | undefined>,
): Record<string, string | undefined> {
  return { ...process.env, ...CLEAN_ENV, NO_COLOR: "1", ...vars };
}

test("a child that exits normally without shutdownTracing() exports all its spans", async () => {
  const rx = await startOtlpReceiver();
  try {
    const r = await runFixture(
      "reliability_exit.ts",
      childEnv({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
        LLMTRACE_TEST_N: "300",
        LLMTRACE_TEST_PREFIX: "child",
      }),
      30_000,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lastJson(r).emitted, 300);
    await rx.waitForSpanCount(300, 5000);
    assert.equal(rx.spans().length, 300);
    assert.equal(names(rx.spans()).size, 300);
  } finally {
    await rx.close();
  }
});

const DEAD_CHILD_TIMEOUT = 1000;

test("a child whose collector is down exits within a bound", async () => {
  const port = await deadPort();
  const r = await runFixture(
    "reliability_exit.ts",
    childEnv({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
      OTEL_EXPORTER_OTLP_TIMEOUT: String(DEAD_CHILD_TIMEOUT),
      LLMTRACE_TEST_N: "50",
    }),
    30_000,
  );
  assert.equal(r.signal, null);
  assert.equal(lastJson(r).emitted, 50);
  // Start-up included; bounded by the export timeout, not hanging.
  assert.ok(r.ms < DEAD_CHILD_TIMEOUT * 3 + 10_000, `exited after ${r.ms}ms`);
});

test(
  "a child whose collector is down exits with status 0 and no uncaught error",
  async () => {
    const port = await deadPort();
    const r = await runFixture(
      "reliability_exit.ts",
      childEnv({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:
          `http://127.0.0.1:${port}/v1/traces`,
        OTEL_EXPORTER_OTLP_TIMEOUT: String(DEAD_CHILD_TIMEOUT),
        LLMTRACE_TEST_N: "50",
      }),
      30_000,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /uncaught|unhandled/i);
  },
);

test("SIGTERM: a served app whose handler awaits shutdownTracing() delivers every span", async () => {
  const rx = await startOtlpReceiver();
  const script = fileURLToPath(
    new URL("./fixtures/reliability_sigterm.ts", import.meta.url),
  );
  const args = isDeno ? ["run", "-A", "--quiet", script] : [script];
  const env: Record<string, string> = {};
  for (
    const [k, v] of Object.entries(childEnv({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
      // Only the SIGTERM flush can deliver them in time.
      OTEL_BSP_SCHEDULE_DELAY: "600000",
    }))
  ) if (v !== undefined) env[k] = v;
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => (stdout += d));
  child.stderr!.on("data", (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal })),
  );
  const killTimer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    await waitFor(
      () => /"port":\d+/.test(stdout),
      20_000,
      "the child to listen",
    )
      .catch((e) => {
        throw new Error(`${e.message}\nstdout: ${stdout}\nstderr: ${stderr}`);
      });
    const port = Number(/"port":(\d+)/.exec(stdout)![1]);
    const N = 25;
    for (let i = 0; i < N; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/item/${i}`, {
        method: "POST",
        body: "x".repeat(i),
      });
      assert.deepEqual(await res.json(), { path: `/item/${i}`, bytes: i });
    }
    await sleep(100);
    assert.equal(rx.spans().length, 0, "spans were exported before SIGTERM");
    child.kill("SIGTERM");
    const { code, signal } = await exited;
    assert.match(stdout, /"shutdown":"ok"/, stderr);
    // Deno's node:child_process reports the signal it sent even when the
    // child handled it and exited with status 0.
    assert.ok(
      code === 0 || (isDeno && signal === "SIGTERM"),
      `exit ${code}, signal ${signal}; stderr: ${stderr}`,
    );
    const got = names(rx.spans());
    for (let i = 0; i < N; i++) {
      assert.ok(got.has(`POST /item/${i}`), `span ${i}`);
    }
  } finally {
    clearTimeout(killTimer);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
    await rx.close();
  }
});

// ---------------------------------------------------------------------------
// Bad input to traceHandler
// ---------------------------------------------------------------------------

/** Echoes the bytes it received as a hash and a length (headers, for HEAD). */
async function echoHandler(req: Request): Promise<Response> {
  let bytes: Uint8Array;
  if (req.headers.get("x-partial") === "1") {
    const reader = req.body!.getReader();
    const parts: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    bytes = concatBytes(parts);
  } else bytes = new Uint8Array(await req.arrayBuffer());
  const headers = {
    "x-body-length": String(bytes.byteLength),
    "x-body-sha256": await sha256(bytes),
    "content-type": "application/json",
  };
  return new Response(
    req.method === "HEAD" ? null : JSON.stringify({ ok: true }),
    { headers },
  );
}

function streamOf(
  bytes: Uint8Array,
  chunk: number,
): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= bytes.byteLength) return c.close();
      c.enqueue(bytes.slice(off, off + chunk));
      off += chunk;
    },
  });
}

interface BadCase {
  name: string;
  method: string;
  path: string;
  contentType?: string;
  body?: Uint8Array;
  streamed?: boolean;
  check?: (span: ReceivedSpan) => void;
}

const enc = new TextEncoder();
const MAX_BODY = 4096;
const bigJson = enc.encode(
  JSON.stringify({
    model: "big",
    messages: [{ content: "y".repeat(200_000) }],
  }),
);

const BAD_CASES: BadCase[] = [
  {
    name: "huge",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: bigJson,
    check: (s) => {
      assert.equal(s.attributes["gen_ai.request.model"], undefined);
      assert.equal(s.attributes["gen_ai.operation.name"], "chat");
    },
  },
  {
    name: "huge_streamed",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: bigJson,
    streamed: true,
    check: (s) => assert.equal(s.attributes["gen_ai.request.model"], undefined),
  },
  {
    name: "binary_as_json",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: randomBytes(3000, 7),
  },
  {
    name: "binary_octets",
    method: "POST",
    path: "/v1/completions",
    contentType: "application/octet-stream",
    body: randomBytes(100_000, 11),
  },
  {
    name: "invalid_utf8",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: new Uint8Array([
      ...enc.encode('{"model":"m\xff'),
      0xff,
      0xfe,
      0xc3,
      0x28,
      ...enc.encode('","max_tokens":5}'),
    ]),
  },
  {
    name: "wrong_types",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: enc.encode(JSON.stringify({
      model: 42,
      max_tokens: "100",
      temperature: "NaN",
      top_p: [0.5],
      n: [1, 2],
      seed: 1.5,
      stream: "yes",
      stop: [1, "x", null],
      messages: "not a list",
    })),
    check: (s) => {
      const a = s.attributes;
      for (
        const k of [
          "gen_ai.request.model",
          "gen_ai.request.max_tokens",
          "gen_ai.request.temperature",
          "gen_ai.request.top_p",
          "gen_ai.request.choice.count",
          "gen_ai.request.seed",
          "gen_ai.request.stream",
        ]
      ) assert.equal(a[k], undefined, k);
      assert.deepEqual(a["gen_ai.request.stop_sequences"], ["x"]);
    },
  },
  {
    name: "nan_like",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: enc.encode('{"model":"m1","max_tokens":1e400,"temperature":-1e999}'),
    check: (s) => {
      assert.equal(s.attributes["gen_ai.request.model"], "m1");
      assert.equal(s.attributes["gen_ai.request.max_tokens"], undefined);
      assert.equal(s.attributes["gen_ai.request.temperature"], undefined);
    },
  },
  {
    name: "nan_literal",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: enc.encode('{"model":"m2","temperature":NaN}'),
    check: (s) => assert.equal(s.attributes["gen_ai.request.model"], undefined),
  },
  {
    name: "json_array",
    method: "POST",
    path: "/v1/embeddings",
    contentType: "application/json",
    body: enc.encode("[1,2,3]"),
  },
  {
    name: "empty_post",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: new Uint8Array(0),
  },
  {
    name: "unknown_path",
    method: "POST",
    path: "/v1/unknown/thing",
    contentType: "application/json",
    body: enc.encode('{"model":"m3"}'),
    check: (s) => {
      assert.equal(s.attributes["gen_ai.operation.name"], undefined);
      assert.equal(s.attributes["url.path"], "/v1/unknown/thing");
    },
  },
  { name: "get", method: "GET", path: "/v1/chat/completions" },
  { name: "head", method: "HEAD", path: "/v1/chat/completions" },
  { name: "options", method: "OPTIONS", path: "/v1/chat/completions" },
];

test("traceHandler hands hostile request bodies to the handler byte for byte, and the span records what it can", async () => {
  const rx = await startOtlpReceiver();
  let server: RunningServer | undefined;
  try {
    await withTracing("test.reliability.bad_input", rx.url, {
      OTEL_BSP_SCHEDULE_DELAY: "50",
    }, async () => {
      const srv = server = await serve(traceHandler(echoHandler, {
        maxBodyBytes: MAX_BODY,
        captureHeaders: ["x-case"],
      }));
      for (const c of BAD_CASES) {
        const init: RequestInit & { duplex?: string } = {
          method: c.method,
          headers: {
            "x-case": c.name,
            ...(c.contentType ? { "content-type": c.contentType } : {}),
          },
        };
        if (c.body) {
          if (c.streamed) {
            init.body = streamOf(c.body, 8192);
            init.duplex = "half";
          } else init.body = c.body as BodyInit;
        }
        const res: Response = await fetch(`${srv.url}${c.path}`, init);
        await res.arrayBuffer();
        assert.equal(res.status, 200, c.name);
        const expected = c.body ?? new Uint8Array(0);
        assert.equal(
          res.headers.get("x-body-length"),
          String(expected.byteLength),
          `${c.name}: length`,
        );
        assert.equal(
          res.headers.get("x-body-sha256"),
          await sha256(expected),
          `${c.name}: bytes`,
        );
      }
      const spans = await rx.waitForSpanCount(BAD_CASES.length, 10_000);
      for (const c of BAD_CASES) {
        const span = spans.find((s) =>
          JSON.stringify(s.attributes["http.request.header.x-case"]) ===
            JSON.stringify([c.name])
        );
        assert.ok(span, `no span for ${c.name}`);
        assert.equal(span.kind, 2, c.name);
        assert.equal(span.attributes["http.request.method"], c.method);
        assert.equal(span.attributes["http.response.status_code"], 200);
        assert.equal(span.status.code, 0, c.name);
        c.check?.(span);
      }
    });
  } finally {
    await server?.close();
    await rx.close();
  }
});

test("traceHandler with a body already partially read before it: the handler reads the rest, nothing throws", async () => {
  const rx = await startOtlpReceiver();
  try {
    await withTracing("test.reliability.partial", rx.url, {
      OTEL_BSP_SCHEDULE_DELAY: "50",
    }, async () => {
      const h = traceHandler(echoHandler, { maxBodyBytes: MAX_BODY });
      const all = enc.encode(
        JSON.stringify({ model: "p", n: 1, pad: "z".repeat(500) }),
      );
      const req = new Request("http://127.0.0.1/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", "x-partial": "1" },
        body: streamOf(all, 100),
        duplex: "half",
      } as RequestInit);
      const reader = req.body!.getReader();
      const first = await reader.read();
      reader.releaseLock();
      const rest = all.slice(first.value!.byteLength);
      const res = await h(req);
      await res.arrayBuffer();
      assert.equal(res.headers.get("x-body-sha256"), await sha256(rest));
      const [span] = await rx.waitForSpanCount(1, 5000);
      assert.equal(span.attributes["gen_ai.operation.name"], "chat");
      assert.equal(span.attributes["gen_ai.request.model"], undefined);
    });
  } finally {
    await rx.close();
  }
});

// ---------------------------------------------------------------------------
// API misuse
// ---------------------------------------------------------------------------

/** Asserts `fn` throws (or rejects with) a TypeError/RangeError whose message matches. */
async function throwsNaming(
  fn: () => unknown,
  name: RegExp,
  kinds: (typeof TypeError | typeof RangeError)[] = [TypeError, RangeError],
): Promise<void> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  assert.ok(error !== undefined, `did not throw (expected ${name})`);
  assert.ok(
    kinds.some((k) => error instanceof k),
    `threw ${(error as Error)?.name}: ${(error as Error)?.message}`,
  );
  assert.match((error as Error).message, name);
}

test("API misuse: wrong argument types throw TypeError/RangeError naming the argument", async () => {
  const ok = () => new Response("ok");
  // initTracer (each throws before building a provider)
  await throwsNaming(() => initTracer(42 as never), /instrumentingModuleName/);
  await throwsNaming(() => initTracer(""), /instrumentingModuleName/);
  await throwsNaming(() => initTracer("x", 42 as never), /otlpTracesEndpoint/);
  await throwsNaming(() => initTracer("x", "  "), /otlpTracesEndpoint/);
  await throwsNaming(
    () => initTracer("x", undefined, [] as never),
    /extraAttributes/,
  );
  await throwsNaming(
    () => initTracer("x", undefined, "a=b" as never),
    /extraAttributes/,
  );
  assert.equal(isTracingEnabled(), false);
  // traceHandler
  await throwsNaming(() => traceHandler("handler" as never), /handler/);
  await throwsNaming(() => traceHandler(ok, null as never), /options/);
  await throwsNaming(
    () => traceHandler(ok, { maxBodyBytes: -1 }),
    /maxBodyBytes/,
    [RangeError],
  );
  await throwsNaming(
    () => traceHandler(ok, { maxBodyBytes: NaN }),
    /maxBodyBytes/,
    [RangeError],
  );
  await throwsNaming(() => traceHandler(ok, { route: 42 as never }), /route/);
  await throwsNaming(
    () => traceHandler(ok, { trustIncomingContext: "yes" as never }),
    /trustIncomingContext/,
  );
  await throwsNaming(
    () => traceHandler(ok, { operation: "chat" as never }),
    /operation/,
  );
  // tracedFetch
  await throwsNaming(
    () => tracedFetch("http://127.0.0.1:9/", undefined, 42 as never),
    /options/,
  );
  // manualInstrument
  await throwsNaming(() => manualInstrument(null as never), /options/);
  await throwsNaming(
    () => manualInstrument({ spanName: 1 as never, startTime: 0 }),
    /spanName/,
  );
  await throwsNaming(
    () => manualInstrument({ spanName: "s", startTime: "yesterday" as never }),
    /startTime/,
  );
  await throwsNaming(
    () => manualInstrument({ spanName: "s", startTime: NaN }),
    /startTime/,
  );
  await throwsNaming(
    () => manualInstrument({ spanName: "s", startTime: 2000, endTime: 1000 }),
    /endTime/,
    [RangeError],
  );
  // recordRequestSpan
  await throwsNaming(() => recordRequestSpan(undefined as never), /options/);
  await throwsNaming(
    () => recordRequestSpan({ requestId: 7 as never, timings: { arrival: 0 } }),
    /requestId/,
  );
  await throwsNaming(
    () => recordRequestSpan({ requestId: "r", timings: null as never }),
    /timings/,
  );
  await throwsNaming(
    () => recordRequestSpan({ requestId: "r", timings: {} as never }),
    /arrival/,
  );
  await throwsNaming(
    () =>
      recordRequestSpan({
        requestId: "r",
        timings: { arrival: { t: 1 } as never },
      }),
    /arrival/,
  );
  await throwsNaming(
    () =>
      recordRequestSpan({
        requestId: "r",
        timings: { arrival: 0 },
        promptTokens: -1,
      }),
    /promptTokens/,
  );
  await throwsNaming(
    () =>
      recordRequestSpan({
        requestId: "r",
        timings: { arrival: 0 },
        completionTokens: "3" as never,
      }),
    /completionTokens/,
  );
  // instrument
  await throwsNaming(() => instrument(42 as never), /fn/);
  await throwsNaming(() => instrument(ok, null as never), /options/);
  await throwsNaming(
    () => instrument(ok, { spanName: 5 as never }),
    /spanName/,
  );
  // traceEnv
  await throwsNaming(() => traceEnv(42 as never), /ctx/);
  await throwsNaming(() => traceEnv(null as never), /ctx/);
  assert.equal(isTracingEnabled(), false);
});

test(
  "API misuse: options of the wrong type are rejected up front",
  async () => {
    const ok = () => new Response("ok");
    try {
      await throwsNaming(
        () => initTracer("x", "http://127.0.0.1:9/v1/traces", {}, 42 as never),
        /options/,
      );
      await shutdownTracing().catch(() => {});
      await throwsNaming(
        () =>
          initTracer("x", "http://127.0.0.1:9/v1/traces", {}, {
            spanProcessors: "ab" as never,
          }),
        /options\.spanProcessors/,
      );
    } finally {
      await shutdownTracing().catch(() => {});
    }
    await throwsNaming(
      () => traceHandler(ok, { captureHeaders: "x-a" as never }),
      /options\.captureHeaders must be/,
    );
    await throwsNaming(
      () => traceHandler(ok, { attributes: "x" as never }),
      /options\.attributes/,
    );
    await throwsNaming(
      () =>
        tracedFetch("http://127.0.0.1:9/", undefined, { fetch: "f" as never }),
      /options\.fetch must be/,
    );
  },
);

test("attribute values that are objects or functions are dropped, nothing throws", async () => {
  const rx = await startOtlpReceiver();
  try {
    await withTracing("test.reliability.attrs", rx.url, {
      OTEL_BSP_SCHEDULE_DELAY: "50",
    }, async () => {
      const bad = {
        "good.int": 1,
        "good.list": ["a", "b"],
        "bad.object": { a: 1 },
        "bad.fn": () => 1,
        "bad.mixed": [1, "a"],
        "bad.nested": [[1]],
        "bad.symbol": Symbol("s"),
        "bad.null": null,
      };
      manualInstrument({
        spanName: "attrs_manual",
        startTime: Date.now() - 5,
        attributes: bad as never,
      });
      instrument(function attrsInstrumented() {
        return 1;
      }, { spanName: "attrs_instrument", attributes: bad as never })();
      recordRequestSpan({
        requestId: "attrs",
        timings: { arrival: Date.now() - 5 },
        attributes: bad as never,
        context: ROOT_CONTEXT,
      });
      const h = traceHandler(() => new Response("ok"), {
        attributes: bad as never,
      });
      await (await h(new Request("http://127.0.0.1/attrs_handler")))
        .arrayBuffer();
      const spans = await rx.waitForSpanCount(4, 5000);
      for (const s of spans) {
        assert.equal(s.attributes["good.int"], 1, s.name);
        assert.deepEqual(s.attributes["good.list"], ["a", "b"], s.name);
        for (const k of Object.keys(bad)) {
          if (k.startsWith("bad.")) {
            assert.equal(s.attributes[k], undefined, `${s.name}: ${k}`);
          }
        }
      }
    });
  } finally {
    await rx.close();
  }
});

test("no unhandled promise rejection happened in this file", async () => {
  await sleep(50);
  assert.deepEqual(unhandled.map(String), []);
});
