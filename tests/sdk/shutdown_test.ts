// Shutdown and exit: shutdownTracing() exports every finished span, and
// settles (resolves) within a bound with the collector down; a child that
// exits without shutdownTracing() still exports, or exits in time with the
// collector down; a served app flushes on SIGTERM. Each test builds its own
// provider; see tests/support/reliability.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { shutdownTracing } from "../../src/sdk/tracer_provider.ts";
import { startOtlpReceiver } from "../support/otlp_receiver.ts";
import {
  captureWarnings,
  CLEAN_ENV,
  isDeno,
  lastJson,
  repoRoot,
  runFixture,
  sleep,
} from "../support/helpers.ts";
import { deadPort } from "../support/servers.ts";
import {
  names,
  settleTime,
  useReliabilityHooks,
  waitFor,
  withTracing,
} from "../support/reliability.ts";

const unhandled = useReliabilityHooks();

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
  "shutdownTracing() with the collector down resolves (undefined), warns naming the endpoint, and a new provider works after it",
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
        let value: unknown = "not settled";
        const { result: settled, warnings } = await captureWarnings(() =>
          settleTime(shutdownTracing().then((v) => (value = v)))
        );
        assert.equal(settled.rejected, false);
        assert.equal(value, undefined);
        // The lost spans are not silent: the warning names the endpoint.
        assert.ok(
          warnings.some((w) =>
            w.includes(
              `shutdown: spans could not be exported to http://127.0.0.1:${port}/v1/traces`,
            )
          ),
          JSON.stringify(warnings),
        );
      },
    );
    // Nothing was left half torn down: a new provider against a live
    // collector exports as usual.
    const rx = await startOtlpReceiver();
    try {
      await withTracing(
        "test.reliability.shutdown_after",
        rx.url,
        {},
        async (tracer) => {
          tracer.startSpan("after_dead").end();
          await shutdownTracing();
          assert.deepEqual(rx.spans().map((s) => s.name), ["after_dead"]);
        },
      );
    } finally {
      await rx.close();
    }
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
    new URL("../fixtures/reliability_sigterm.ts", import.meta.url),
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

test("no unhandled promise rejection happened in this file", async () => {
  await sleep(50);
  assert.deepEqual(unhandled.map(String), []);
});
