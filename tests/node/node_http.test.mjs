// The npm build under Node: `initTracer` and `traceHandler`/`tracedFetch`
// imported from the package by name ("llmtrace", resolved through package.json
// `exports` to dist/), served with node:http through examples/node/node_http.mjs,
// spans checked at the real OTLP receiver. Run: `npm run build && node --test tests/node/`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { loadSupport, requireBuild } from "./support.mjs";

requireBuild();
const { forceFlush, initTracer, shutdownTracing, tracedFetch, traceHandler } =
  await import("llmtrace");
const { toNodeListener } = await import("../../examples/node/node_http.mjs");

const SERVER = 2;
const CLIENT = 3;

let support;
let receiver;
let llm;
const upstreamHeaders = [];
const servers = [];

function listen(listener) {
  const server = createServer(listener);
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(
      0,
      "127.0.0.1",
      () => resolve(`http://127.0.0.1:${server.address().port}`),
    );
  });
}

let upstream;
let router;

before(async () => {
  support = await loadSupport();
  receiver = await support.startOtlpReceiver();
  await initTracer("node.router", receiver.url);
  llm = support.createFakeLlm({ delayMs: 30 });
  upstream = await listen(toNodeListener((req) => {
    upstreamHeaders.push(new Headers(req.headers));
    return llm.handler(req);
  }));
  router = await listen(toNodeListener(traceHandler(async (req) => {
    return await tracedFetch(`${upstream}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: await req.text(),
    }, { request: req, providerName: "vllm" });
  }, { route: "/v1/chat/completions" })));
});

after(async () => {
  for (const s of servers) {
    s.closeAllConnections?.();
    await new Promise((r) => s.close(() => r()));
  }
  await shutdownTracing();
  await receiver?.close();
  support?.cleanup();
});

const chat = (body, init = {}) =>
  fetch(`${router}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(init.headers ?? {}) },
    body: JSON.stringify(body),
    signal: init.signal,
  });

/** Flushes what has ended, until `predicate` holds (bounded). */
async function spansWhere(predicate, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await forceFlush();
    if (predicate(receiver.spans())) return receiver.spans();
    await new Promise((r) => setTimeout(r, 20));
  }
  return await receiver.waitForSpans(predicate, { timeoutMs: 1 });
}

function find(spans, name) {
  const s = spans.find((x) => x.name === name);
  assert.ok(s, `no span "${name}" in:\n${support.spanTree(spans)}`);
  return s;
}

test("node: a streamed chat completion, SERVER > CLIENT, at the receiver", async () => {
  const res = await chat({
    model: "node-s",
    stream: true,
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /text\/event-stream/);
  const text = await res.text();
  assert.equal(
    text.split("\n\n").filter((e) => e.startsWith("data: ")).length,
    7,
  );
  const spans = await spansWhere(
    (s) =>
      s.some((x) => x.name === "chat node-s") &&
      s.some((x) =>
        x.name === "POST /v1/chat/completions" &&
        x.attributes["gen_ai.request.model"] === "node-s"
      ),
  );
  const client = find(spans, "chat node-s");
  const server = spans.find((x) => x.spanId === client.parentSpanId);
  assert.ok(server, support.spanTree(spans));
  assert.equal(server.kind, SERVER);
  assert.equal(client.kind, CLIENT);
  assert.equal(server.parentSpanId, undefined);
  assert.equal(client.traceId, server.traceId);
  assert.equal(
    upstreamHeaders.at(-1).get("traceparent"),
    // 03: sampled, and the random-trace-id flag of a trace llmtrace starts.
    `00-${client.traceId}-${client.spanId}-03`,
  );
  assert.equal(server.resource["process.runtime.name"], "node");
  assert.equal(server.resource["process.pid"], process.pid);
  assert.equal(server.resource["service.name"], "node.router");
  assert.equal(server.attributes["client.address"], "127.0.0.1");
  assert.equal(server.attributes["http.response.status_code"], 200);
  assert.equal(server.attributes["llmtrace.response.chunks"], 6);
  assert.equal(client.attributes["llmtrace.response.chunks"], 6);
  assert.equal(client.attributes["gen_ai.provider.name"], "vllm");
  assert.deepEqual(server.attributes["gen_ai.response.finish_reasons"], [
    "stop",
  ]);
  // The server span covers the stream (5 x 30 ms of upstream delays).
  const ms = Number(server.endTimeUnixNano - server.startTimeUnixNano) / 1e6;
  assert.ok(ms >= 120, `server span ${ms} ms`);
  assert.ok(server.endTimeUnixNano >= client.endTimeUnixNano);
});

test("node: a JSON answer with usage, traceparent continued", async () => {
  const traceId = "0af7651916cd43dd8448eb211c80319c";
  const res = await chat({
    model: "node-j",
    messages: [{ role: "user", content: "hi" }],
  }, {
    headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).model, "node-j-2024-01-01");
  const spans = await spansWhere((s) =>
    s.some((x) => x.name === "chat node-j")
  );
  const client = find(spans, "chat node-j");
  const server = spans.find((x) => x.spanId === client.parentSpanId);
  assert.ok(server);
  assert.equal(server.traceId, traceId);
  assert.equal(server.parentSpanId, "b7ad6b7169203331");
  assert.equal(server.attributes["gen_ai.usage.input_tokens"], 11);
  assert.equal(server.attributes["gen_ai.usage.output_tokens"], 4);
  assert.equal(client.attributes["gen_ai.usage.input_tokens"], 11);
});

test("node: a client that goes away mid-stream cancels the upstream", async () => {
  const before = llm.streams.length;
  const ac = new AbortController();
  const res = await chat({
    model: "node-c",
    stream: true,
    messages: [{ role: "user", content: "hi" }],
  }, {
    signal: ac.signal,
  });
  const reader = res.body.getReader();
  await reader.read(); // the first event
  ac.abort();
  await reader.cancel().catch(() => {});
  assert.equal(
    await llm.waitForCancel(before, 5000),
    true,
    "the upstream stream was cancelled",
  );
  const spans = await spansWhere(
    (s) =>
      s.some((x) => x.name === "chat node-c") &&
      s.some((x) =>
        x.attributes["gen_ai.request.model"] === "node-c" && x.kind === SERVER
      ),
  );
  const server = spans.find((x) =>
    x.attributes["gen_ai.request.model"] === "node-c" && x.kind === SERVER
  );
  // A client cancel is not a server error: status unset, marked cancelled.
  assert.equal(
    server.attributes["llmtrace.response.cancelled"],
    true,
    JSON.stringify(server.attributes),
  );
  assert.equal(server.attributes["error.type"], undefined);
});
