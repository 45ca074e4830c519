// A traced app (traceHandler on a real server) while its collector is down
// from the start or slower than the export timeout: every request is answered
// at once, exports fail or time out in the background, shutdown is bounded.
// Each test builds its own provider; see tests/support/reliability.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { forceFlush, shutdownTracing } from "../../src/sdk/tracer_provider.ts";
import { traceHandler } from "../../src/http/server.ts";
import { startOtlpReceiver } from "../support/otlp_receiver.ts";
import { sleep } from "../support/helpers.ts";
import { deadPort, startServer, type TestServer } from "../support/servers.ts";
import {
  captureDiag,
  settleTime,
  useReliabilityHooks,
  waitFor,
  withTracing,
} from "../support/reliability.ts";

const unhandled = useReliabilityHooks();

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
  server: TestServer,
  i: number,
): Promise<{ ms: number; ok: boolean }> {
  const t0 = performance.now();
  const res = await fetch(`${server.origin}/v1/chat/completions`, {
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
  server: TestServer,
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

test("collector down from the start: the app answers every request, none waits for the collector", async () => {
  const port = await deadPort();
  const TIMEOUT = 2000;
  const log = captureDiag();
  let server: TestServer | undefined;
  try {
    await withTracing(
      "test.reliability.down",
      `http://127.0.0.1:${port}/v1/traces`,
      {
        OTEL_EXPORTER_OTLP_TIMEOUT: String(TIMEOUT),
        OTEL_BSP_SCHEDULE_DELAY: "50",
      },
      async () => {
        server = startServer(
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
    await server?.stop();
  }
});

test("collector slower than OTEL_EXPORTER_OTLP_TIMEOUT: exports time out, requests don't wait, shutdown is bounded", async () => {
  const TIMEOUT = 300;
  const rx = await startOtlpReceiver({
    respond: () => ({ status: 200, delayMs: 8000 }),
  });
  let server: TestServer | undefined;
  try {
    await withTracing("test.reliability.slow", rx.url, {
      OTEL_EXPORTER_OTLP_TIMEOUT: String(TIMEOUT),
      OTEL_BSP_SCHEDULE_DELAY: "20",
    }, async () => {
      server = startServer(
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
    await server?.stop();
    await rx.close();
  }
});

test("no unhandled promise rejection happened in this file", async () => {
  await sleep(50);
  assert.deepEqual(unhandled.map(String), []);
});
