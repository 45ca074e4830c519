// Cloudflare workerd end to end: tests/fixtures/workerd/worker.ts is bundled
// with esbuild (one ESM file, platform "browser", no nodejs_compat), served by
// a real `workerd serve` on a loopback port, and its spans are checked as they
// arrive at the real OTLP receiver (reached by workerd over a network service
// that allows loopback addresses).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  spanTree,
  startOtlpReceiver,
} from "../support/otlp_receiver.ts";
import { createFakeLlm } from "../support/fake_llm.ts";
import { deadPort, startServer, type TestServer } from "../support/servers.ts";
import { stopChild, waitUntilServing } from "../support/child_servers.ts";

const SERVER = 2; // OTLP SPAN_KIND_SERVER
const CLIENT = 3;

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixtures = join(root, "tests", "fixtures", "workerd");
const WORKERD = join(root, "node_modules", ".bin", "workerd");
const ESBUILD = join(root, "node_modules", ".bin", "esbuild");
// Well inside the range every workerd release since 2025 supports.
const COMPAT_DATE = "2025-09-01";

/** Why workerd cannot run here, or undefined when it can. */
function workerdUnavailable(): string | undefined {
  try {
    const r = spawnSync(WORKERD, ["--version"], {
      timeout: 15_000,
      encoding: "utf8",
    });
    if (r.error) return `workerd cannot start: ${r.error.message}`;
    if (r.status !== 0) {
      return `workerd --version exited ${r.status}: ${r.stderr.trim()}`;
    }
    return undefined;
  } catch (e) {
    return `workerd cannot start: ${(e as Error).message}`;
  }
}

const skipReason = workerdUnavailable();
if (skipReason) console.log(`workerd_test: skipped: ${skipReason}`);

/** Runs a command to its end, bounded; rejects with its output on failure. */
function run(cmd: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} timed out after ${timeoutMs}ms\n${out}`));
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited ${code}\n${out}`));
    });
  });
}

let receiver: OtlpReceiver;
let upstream: TestServer;
let workerd: ChildProcess | undefined;
let workerdLog = "";
let dir: string;
let base: string;
const llm = createFakeLlm({ delayMs: 40 });
const upstreamHeaders: Headers[] = [];

before(async () => {
  if (skipReason) return;
  receiver = await startOtlpReceiver();
  upstream = startServer((req) => {
    upstreamHeaders.push(new Headers(req.headers));
    return llm.handler(req);
  });
  dir = mkdtempSync(join(tmpdir(), "llmtrace-workerd-"));
  await run(ESBUILD, [
    join(fixtures, "worker.ts"),
    "--bundle",
    "--format=esm",
    "--platform=browser",
    "--target=es2022",
    "--log-level=warning",
    `--outfile=${join(dir, "worker.js")}`,
  ], 60_000);
  // A free loopback port (nothing listens there now) for workerd to take.
  const port = await deadPort();
  const config = readFileSync(join(fixtures, "config.capnp.template"), "utf8")
    .replaceAll("@PORT@", String(port))
    .replaceAll("@COMPAT_DATE@", COMPAT_DATE)
    .replaceAll("@OTLP_ENDPOINT@", receiver.url)
    .replaceAll("@UPSTREAM_URL@", upstream.origin);
  writeFileSync(join(dir, "config.capnp"), config);
  base = `http://127.0.0.1:${port}`;
  const child = spawn(WORKERD, ["serve", join(dir, "config.capnp")], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  workerd = child;
  child.stdout?.on("data", (d) => (workerdLog += d));
  child.stderr?.on("data", (d) => (workerdLog += d));
  // Ready when /health answers; bounded, and fails fast if workerd exits.
  await waitUntilServing(child, `${base}/health`, () => workerdLog);
});

after(async () => {
  if (skipReason) return;
  try {
    if (workerd) await stopChild(workerd);
  } finally {
    await upstream?.stop();
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

function byName(spans: ReceivedSpan[], name: string): ReceivedSpan {
  const s = spans.find((x) => x.name === name);
  assert.ok(s, `no span "${name}" in:\n${spanTree(spans)}`);
  return s;
}

test("workerd: the worker runs without process, as runtime workerd", {
  skip: skipReason,
}, async () => {
  const r = await fetch(`${base}/runtime`);
  const seen = await r.json();
  assert.equal(seen.process, "undefined", "no nodejs_compat: no process");
  assert.equal(seen.userAgent, "Cloudflare-Workers");
  assert.equal(seen.performance, "object");
  const spans = await receiver.waitForSpans(
    (s) => s.some((x) => x.name === "GET /runtime"),
    { timeoutMs: 10_000 },
  );
  const span = byName(spans, "GET /runtime");
  assert.equal(span.kind, SERVER);
  assert.equal(span.resource["process.runtime.name"], "workerd");
  assert.equal(span.resource["service.name"], "workerd.router");
  assert.equal(span.resource["deployment.environment.name"], "test");
  assert.equal(span.attributes["http.response.status_code"], 200);
  // No pid in a worker.
  assert.equal(span.resource["process.pid"], undefined);
});

test(
  "workerd: a streamed chat completion through the router, SERVER > CLIENT",
  {
    skip: skipReason,
  },
  async () => {
    const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpan = "00f067aa0ba902b7";
    const sent = Date.now();
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        traceparent: `00-${callerTrace}-${callerSpan}-01`,
      },
      body: JSON.stringify({
        model: "llama-wd",
        stream: true,
        max_tokens: 16,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    // The answer streams through the worker: chunks arrive over time.
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let firstAt = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!firstAt) firstAt = Date.now();
      text += decoder.decode(value, { stream: true });
    }
    const endAt = Date.now();
    const events = text.split("\n\n").filter((e) => e.startsWith("data: "));
    assert.equal(events.length, 7, text); // role, 4 pieces, finish, [DONE]
    assert.equal(events.at(-1), "data: [DONE]");
    // 6 inter-event delays of 40 ms upstream: the last chunk comes well after
    // the first (the worker does not buffer the stream).
    assert.ok(endAt - firstAt >= 100, `streamed over ${endAt - firstAt} ms`);

    // Flushed by ctx.waitUntil once the body was sent: well before the batch
    // processor's 5 s schedule.
    const spans = await receiver.waitForSpans(
      (s) =>
        s.some((x) => x.name === "POST /v1/chat/completions") &&
        s.some((x) => x.name === "chat llama-wd"),
      { timeoutMs: 4000, message: "spans flushed by waitUntil" },
    );
    assert.ok(Date.now() - sent < 4500);
    const server = byName(spans, "POST /v1/chat/completions");
    const client = byName(spans, "chat llama-wd");
    const tree = spanTree(spans);

    assert.equal(server.kind, SERVER);
    assert.equal(
      server.traceId,
      callerTrace,
      "the caller's trace is continued",
    );
    assert.equal(server.parentSpanId, callerSpan);
    assert.equal(client.kind, CLIENT);
    assert.equal(client.traceId, callerTrace, tree);
    assert.equal(client.parentSpanId, server.spanId, tree);

    // The upstream got the CLIENT span as its parent.
    const tp = upstreamHeaders.at(-1)?.get("traceparent");
    assert.equal(tp, `00-${callerTrace}-${client.spanId}-01`);

    const sa = server.attributes;
    assert.equal(sa["http.request.method"], "POST");
    assert.equal(sa["http.route"], "/v1/chat/completions");
    assert.equal(sa["url.path"], "/v1/chat/completions");
    assert.equal(sa["server.address"], "127.0.0.1");
    assert.equal(sa["http.response.status_code"], 200);
    assert.equal(server.attributeTypes["http.response.status_code"], "int");
    assert.equal(sa["gen_ai.operation.name"], "chat");
    assert.equal(sa["gen_ai.request.model"], "llama-wd");
    assert.equal(sa["gen_ai.request.max_tokens"], 16);
    assert.equal(sa["gen_ai.request.stream"], true);
    assert.equal(sa["gen_ai.response.model"], "llama-wd-2024-01-01");
    assert.deepEqual(sa["gen_ai.response.finish_reasons"], ["stop"]);
    assert.equal(sa["llmtrace.response.chunks"], 6);
    // Server-side TTFT under vLLM's name; time_to_first_chunk is the client's.
    assert.equal(typeof sa["gen_ai.latency.time_to_first_token"], "number");
    assert.equal(sa["gen_ai.response.time_to_first_chunk"], undefined);

    const ca = client.attributes;
    assert.equal(ca["http.request.method"], "POST");
    assert.equal(ca["url.full"], `${upstream.origin}/v1/chat/completions`);
    assert.equal(ca["server.port"], upstream.port);
    assert.equal(ca["gen_ai.provider.name"], "vllm");
    assert.equal(ca["gen_ai.request.model"], "llama-wd");
    assert.equal(ca["http.response.status_code"], 200);
    assert.equal(ca["llmtrace.response.chunks"], 6);
    assert.match(String(ca["gen_ai.response.id"]), /^chatcmpl-fake-/);

    // The server span covers the whole stream, the client span inside it;
    // workerd's clock is coarse (it advances on I/O), yet the 6 x 40 ms of
    // upstream delays must show.
    assert.ok(server.startTimeUnixNano <= client.startTimeUnixNano, tree);
    assert.ok(client.endTimeUnixNano <= server.endTimeUnixNano, tree);
    const serverMs = Number(server.endTimeUnixNano - server.startTimeUnixNano) /
      1e6;
    assert.ok(serverMs >= 150, `server span lasted ${serverMs} ms`);
    // Epoch timestamps, not an isolate-relative clock.
    const startMs = Number(server.startTimeUnixNano / 1_000_000n);
    assert.ok(Math.abs(startMs - sent) < 60_000, `start ${startMs} vs ${sent}`);
  },
);

test(
  "workerd: tracedFetch through a service binding, three spans in one trace",
  {
    skip: skipReason,
  },
  async () => {
    const res = await fetch(`${base}/via-binding/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "embed-wd", input: "x" }),
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).model, "embed-wd");
    const spans = await receiver.waitForSpans(
      (s) =>
        [
          "POST /via-binding/v1/embeddings",
          "embeddings embed-wd",
          "POST /internal/v1/embeddings",
        ].every((n) => s.some((x) => x.name === n)),
      { timeoutMs: 4000, message: "service binding spans" },
    );
    const outer = byName(spans, "POST /via-binding/v1/embeddings");
    const client = byName(spans, "embeddings embed-wd");
    const inner = byName(spans, "POST /internal/v1/embeddings");
    const tree = spanTree(spans);
    assert.equal(outer.parentSpanId, undefined, tree);
    assert.equal(client.kind, CLIENT);
    assert.equal(client.parentSpanId, outer.spanId, tree);
    assert.equal(inner.kind, SERVER);
    assert.equal(inner.parentSpanId, client.spanId, tree);
    assert.equal(inner.traceId, outer.traceId);
    assert.equal(client.traceId, outer.traceId);
    assert.equal(client.attributes["gen_ai.operation.name"], "embeddings");
    assert.equal(inner.attributes["gen_ai.request.model"], "embed-wd");
    assert.equal(inner.attributes["gen_ai.usage.input_tokens"], 3);
  },
);

test("workerd: concurrent requests keep their own traces", {
  skip: skipReason,
}, async () => {
  const models = ["c-0", "c-1", "c-2", "c-3"];
  await Promise.all(models.map(async (model) => {
    const r = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model,
        stream: model.endsWith("1"),
        messages: [{ role: "user", content: model }],
      }),
    });
    assert.equal(r.status, 200);
    await r.text();
  }));
  const spans = await receiver.waitForSpans(
    (s) => models.every((m) => s.some((x) => x.name === `chat ${m}`)),
    { timeoutMs: 4000, message: "concurrent spans" },
  );
  const servers = new Map(
    spans.filter((s) => s.name === "POST /v1/chat/completions").map(
      (s) => [s.spanId, s],
    ),
  );
  for (const m of models) {
    const client = byName(spans, `chat ${m}`);
    const server = servers.get(client.parentSpanId ?? "");
    assert.ok(server, `the parent of chat ${m} is a server span`);
    assert.equal(server.attributes["gen_ai.request.model"], m);
    assert.equal(server.traceId, client.traceId);
  }
});
