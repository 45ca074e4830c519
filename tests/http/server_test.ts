// traceHandler end to end: real servers (Deno.serve / Bun.serve), real
// clients (fetch and the official `openai` client), a real OTLP receiver.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import OpenAI from "openai";
import { trace, type Tracer } from "@opentelemetry/api";
import {
  contextOf,
  forceFlush,
  traceHandler,
  type TraceHandlerOptions,
} from "../mod.ts";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  spanTree,
} from "./support/otlp_receiver.ts";
import { useTracing } from "./support/tracing.ts";
import { createFakeLlm } from "./support/fake_llm.ts";
import {
  currentRuntime,
  type ServeHandler,
  type TestServer,
  withServer,
} from "./support/servers.ts";

const SERVER = 2; // OTLP SPAN_KIND_SERVER
const INTERNAL = 1;
const ERROR = 2; // OTLP STATUS_CODE_ERROR
const UNSET = 0;

let receiver: OtlpReceiver;
let tracer: Tracer;

useTracing("serve-test", (t) => {
  receiver = t.receiver;
  tracer = t.tracer;
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let seq = 0;
/** A unique id, recorded on a handler's spans as `test.id`. */
const newId = (label: string) => `${label}-${++seq}-${Date.now()}`;

/** traceHandler with `test.id` among the extra attributes. */
function traced(
  id: string,
  handler: ServeHandler,
  options: TraceHandlerOptions = {},
) {
  return traceHandler(handler, {
    ...options,
    attributes: { ...options.attributes, "test.id": id },
  });
}

/** Flushes and polls (bounded) until `pick` finds what it wants. */
async function waitFor<T>(
  what: string,
  pick: (spans: ReceivedSpan[]) => T | undefined,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000; i++) {
    await forceFlush();
    const found = pick(receiver.spans());
    if (found !== undefined) return found;
    if (Date.now() >= deadline) break;
    await sleep(20);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}; received:\n` +
      spanTree(receiver.spans()),
  );
}

/** The server spans carrying `test.id` = `id`, once `count` arrived. */
function serverSpans(id: string, count: number): Promise<ReceivedSpan[]> {
  return waitFor(`${count} server span(s) ${id}`, (spans) => {
    const found = spans.filter((s) =>
      s.kind === SERVER && s.attributes["test.id"] === id
    );
    return found.length >= count ? found : undefined;
  });
}

async function serverSpan(id: string): Promise<ReceivedSpan> {
  const [span] = await serverSpans(id, 1);
  return span;
}

const durationNs = (s: ReceivedSpan) => s.endTimeUnixNano - s.startTimeUnixNano;

/** JSON.stringify that survives bigints (for "appears nowhere" checks). */
const dump = (v: unknown) =>
  JSON.stringify(v, (_k, x) => typeof x === "bigint" ? x.toString() : x);

const chatUrl = (srv: TestServer) => `${srv.origin}/v1/chat/completions`;

function postJson(
  url: string,
  body: unknown,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(url, {
    ...init,
    method: "POST",
    headers: { "content-type": "application/json", ...init.headers },
    body: JSON.stringify(body),
  });
}

const MESSAGES = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "Say hello to the world." },
];

/** Reads an SSE body to its end, timestamping the last chunk (bounded). */
async function readSse(res: Response) {
  const reader = res.body!.getReader();
  let text = "";
  let lastChunkAt = 0;
  let reads = 0;
  for (; reads < 10_000; reads++) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    lastChunkAt = Date.now();
  }
  const finishedAt = Date.now();
  const events = text.split("\n\n").filter((e) => e.startsWith("data: "))
    .map((e) => e.slice("data: ".length));
  const json = events.filter((e) => e !== "[DONE]").map((e) => JSON.parse(e));
  return { text, events, json, lastChunkAt, finishedAt };
}

// ---------------------------------------------------------------------------
// Attributes
// ---------------------------------------------------------------------------

test("non-streamed chat over fetch: exact HTTP and GenAI attributes", async () => {
  const id = newId("json");
  const llm = createFakeLlm();
  await withServer(traced(id, llm.handler), async (srv) => {
    const res = await postJson(chatUrl(srv), {
      model: "fake-model",
      messages: MESSAGES,
      max_tokens: 100,
      max_completion_tokens: 3, // takes precedence over max_tokens
      temperature: 0,
      top_p: 0.9,
      n: 2,
      stream: false,
      seed: 42,
      stop: ["\n\n", "END"],
      frequency_penalty: 0.5,
      presence_penalty: -0.25,
    }, { headers: { "user-agent": "llmtrace-test/1.0" } });
    assert.equal(res.status, 200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const answer = JSON.parse(decoder.decode(bytes));
    assert.equal(answer.choices.length, 2);

    const span = await serverSpan(id);
    assert.equal(span.name, "POST /v1/chat/completions");
    assert.equal(span.kind, SERVER);
    assert.equal(span.status.code, UNSET);
    assert.equal(span.parentSpanId, undefined);
    assert.deepEqual(span.attributes, {
      "test.id": id,
      "http.request.method": "POST",
      "url.path": "/v1/chat/completions",
      "url.scheme": "http",
      "server.address": "127.0.0.1",
      "server.port": srv.port,
      // A fixed OpenAI-compatible endpoint is its own route.
      "http.route": "/v1/chat/completions",
      "client.address": "127.0.0.1",
      "user_agent.original": "llmtrace-test/1.0",
      "http.response.status_code": 200,
      "http.response.body.size": bytes.byteLength,
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "fake-model",
      "gen_ai.request.max_tokens": 3,
      "gen_ai.request.temperature": 0,
      "gen_ai.request.top_p": 0.9,
      "gen_ai.request.choice.count": 2,
      "gen_ai.request.n": 2,
      "gen_ai.request.stream": false,
      "gen_ai.request.seed": 42,
      "gen_ai.request.stop_sequences": ["\n\n", "END"],
      "gen_ai.request.frequency_penalty": 0.5,
      "gen_ai.request.presence_penalty": -0.25,
      "gen_ai.response.id": answer.id,
      "gen_ai.response.model": "fake-model-2024-01-01",
      "gen_ai.response.finish_reasons": ["length", "length"],
      "gen_ai.usage.input_tokens": 11,
      "gen_ai.usage.output_tokens": 6,
      "gen_ai.usage.prompt_tokens": 11,
      "gen_ai.usage.completion_tokens": 6,
      "gen_ai.usage.cache_read.input_tokens": 4,
      "gen_ai.usage.num_sequences": 2,
    });
    const t = span.attributeTypes;
    for (
      const k of [
        "server.port",
        "http.response.status_code",
        "gen_ai.request.max_tokens",
        "gen_ai.request.seed",
        "gen_ai.request.choice.count",
        "gen_ai.request.n",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
      ]
    ) assert.equal(t[k], "int", k);
    // temperature 0 is recorded; a JS number 0 goes out as an int.
    assert.ok(
      t["gen_ai.request.temperature"] === "int" ||
        t["gen_ai.request.temperature"] === "double",
    );
    assert.equal(t["gen_ai.request.top_p"], "double");
    assert.equal(t["gen_ai.request.stream"], "bool");
    assert.equal(t["gen_ai.request.stop_sequences"], "array");
    assert.equal(t["gen_ai.response.finish_reasons"], "array");
    assert.equal(span.scope.name, "llmtrace");
    assert.equal(span.resource["service.name"], "serve-test");
  });
});

test("span name and http.route follow options.route (string and function)", async () => {
  const id = newId("route");
  const llm = createFakeLlm();
  const path = "/openai/deployments/d1/chat/completions";
  const template = "/openai/deployments/{deployment}/chat/completions";
  const handlers = [
    traced(id, llm.handler, { route: template }),
    traced(id, llm.handler, {
      route: (req) => new URL(req.url).pathname.replace(/d1/, "{deployment}"),
    }),
    // No route and a path that is not a fixed endpoint (it holds an id):
    // `{method}` alone, no http.route.
    traced(id, llm.handler),
  ];
  for (const h of handlers) {
    await withServer(h, async (srv) => {
      const res = await postJson(`${srv.origin}${path}`, {
        model: "fake-model",
        messages: MESSAGES,
      });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    });
  }
  const spans = await serverSpans(id, 3);
  const names = spans.map((s) => s.name).sort();
  assert.deepEqual(names, [
    "POST",
    `POST ${template}`,
    `POST ${template}`,
  ]);
  for (const s of spans) {
    assert.equal(s.attributes["url.path"], path);
    assert.equal(s.attributes["gen_ai.operation.name"], "chat");
    assert.equal(s.attributes["gen_ai.request.model"], "fake-model");
    if (s.name === "POST") {
      assert.equal(s.attributes["http.route"], undefined);
    } else assert.equal(s.attributes["http.route"], template);
  }
});

test("openai client, non-streamed: span matches what the client received", async () => {
  const id = newId("openai-json");
  const llm = createFakeLlm();
  await withServer(
    traced(id, llm.handler, { captureHeaders: ["authorization"] }),
    async (srv) => {
      const client = new OpenAI({
        baseURL: `${srv.origin}/v1`,
        apiKey: "test",
        maxRetries: 0,
        timeout: 10_000,
      });
      const completion = await client.chat.completions.create({
        model: "fake-model",
        messages: [{ role: "user", content: "Hi" }],
        temperature: 0,
        max_tokens: 16,
      });
      assert.equal(completion.choices[0].message.content, "Hello, world!");

      const span = await serverSpan(id);
      const a = span.attributes;
      assert.equal(span.name, "POST /v1/chat/completions");
      assert.equal(a["gen_ai.operation.name"], "chat");
      assert.equal(a["gen_ai.request.model"], "fake-model");
      assert.equal(a["gen_ai.request.max_tokens"], 16);
      assert.equal(a["gen_ai.request.temperature"], 0);
      assert.equal(a["gen_ai.response.id"], completion.id);
      assert.equal(a["gen_ai.response.model"], completion.model);
      assert.deepEqual(a["gen_ai.response.finish_reasons"], ["stop"]);
      assert.equal(
        a["gen_ai.usage.input_tokens"],
        completion.usage!.prompt_tokens,
      );
      assert.equal(
        a["gen_ai.usage.output_tokens"],
        completion.usage!.completion_tokens,
      );
      assert.equal(
        a["gen_ai.usage.prompt_tokens"],
        completion.usage!.prompt_tokens,
      );
      assert.equal(
        a["gen_ai.usage.completion_tokens"],
        completion.usage!.completion_tokens,
      );
      assert.equal(
        a["gen_ai.usage.cache_read.input_tokens"],
        completion.usage!.prompt_tokens_details!.cached_tokens,
      );
      assert.equal(a["http.response.status_code"], 200);
      assert.match(String(a["user_agent.original"]), /^OpenAI\/JS /);
      assert.equal(a["http.request.header.authorization"], undefined);
      assert.ok(!dump(span).includes("Bearer"), "no credential recorded");
    },
  );
});

test("openai client, streamed with usage: chunks, TTFT and tokens as received", async () => {
  const id = newId("openai-sse");
  const llm = createFakeLlm({ delayMs: 10 });
  await withServer(traced(id, llm.handler), async (srv) => {
    const client = new OpenAI({
      baseURL: `${srv.origin}/v1`,
      apiKey: "test",
      maxRetries: 0,
      timeout: 10_000,
    });
    const stream = await client.chat.completions.create({
      model: "fake-model",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let chunks = 0;
    let text = "";
    let responseId: string | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    const finish: string[] = [];
    for await (const chunk of stream) {
      chunks++;
      responseId ??= chunk.id;
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.delta?.content ?? "";
        if (c.finish_reason) finish.push(c.finish_reason);
      }
      if (chunks > 1000) break;
    }
    assert.equal(text, "Hello, world!");
    assert.ok(usage);

    const span = await serverSpan(id);
    const a = span.attributes;
    assert.equal(a["gen_ai.request.stream"], true);
    assert.equal(a["llmtrace.response.chunks"], chunks);
    assert.equal(a["gen_ai.response.id"], responseId);
    assert.deepEqual(a["gen_ai.response.finish_reasons"], finish);
    assert.equal(a["gen_ai.usage.input_tokens"], usage.prompt_tokens);
    assert.equal(a["gen_ai.usage.output_tokens"], usage.completion_tokens);
    assert.equal(a["gen_ai.usage.prompt_tokens"], usage.prompt_tokens);
    assert.equal(a["gen_ai.usage.completion_tokens"], usage.completion_tokens);
    const ttft = a["gen_ai.response.time_to_first_chunk"] as number;
    assert.equal(typeof ttft, "number");
    assert.ok(ttft > 0, `ttft ${ttft}`);
    assert.ok(ttft <= Number(durationNs(span)) / 1e9, "TTFT <= span duration");
    assert.equal(a["gen_ai.latency.time_to_first_token"], ttft);
    assert.equal(span.status.code, UNSET);
  });
});

test("streamed chat over fetch: span covers the stream to its last chunk", async () => {
  const id = newId("sse-timing");
  const pieces = ["The", " quick", " brown", " fox", " jumps", "."];
  const llm = createFakeLlm({ pieces, delayMs: 25 });
  await withServer(traced(id, llm.handler), async (srv) => {
    const res = await postJson(chatUrl(srv), {
      model: "fake-model",
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.7,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const got = await readSse(res);
    assert.equal(got.events.at(-1), "[DONE]");
    const usage = got.json.at(-1).usage;
    assert.ok(usage, "the last JSON event carries usage");

    const span = await serverSpan(id);
    const a = span.attributes;
    // Ends after the handler's stream closed behind its last chunk (same
    // clock as the span; the client's read time is not: under load it lags
    // the server by whatever the scheduler decides), and lasts at least as
    // long as the LLM took between chunks (1 ms per timer tolerance).
    const record = llm.streams.at(-1)!;
    assert.equal(record.finished, true);
    assert.ok(record.closedAt !== undefined);
    assert.ok(
      span.endTimeUnixNano >=
        BigInt(Math.floor(record.closedAt * 1000)) * 1000n,
      `span ended at ${span.endTimeUnixNano} ns, the stream closed at ${record.closedAt} ms`,
    );
    // And not long before the client finished reading (generous: CI load).
    assert.ok(
      span.endTimeUnixNano <= BigInt(got.lastChunkAt + 1000) * 1_000_000n,
    );
    const timers = got.events.length - 1;
    assert.equal(record.delaysMs, timers * 25);
    assert.ok(
      durationNs(span) >= BigInt(record.delaysMs - timers) * 1_000_000n,
      `duration ${durationNs(span)} ns < ${record.delaysMs} ms of delays`,
    );
    // role + pieces + finish + usage JSON events; [DONE] is not a chunk.
    assert.equal(a["llmtrace.response.chunks"], got.json.length);
    assert.equal(got.json.length, pieces.length + 3);
    assert.equal(a["gen_ai.usage.input_tokens"], usage.prompt_tokens);
    assert.equal(a["gen_ai.usage.output_tokens"], usage.completion_tokens);
    assert.equal(a["gen_ai.usage.prompt_tokens"], usage.prompt_tokens);
    assert.equal(a["gen_ai.usage.completion_tokens"], usage.completion_tokens);
    assert.equal(
      a["gen_ai.usage.cache_read.input_tokens"],
      usage.prompt_tokens_details.cached_tokens,
    );
    assert.equal(a["gen_ai.response.id"], got.json[0].id);
    assert.equal(a["gen_ai.response.model"], got.json[0].model);
    assert.deepEqual(a["gen_ai.response.finish_reasons"], ["stop"]);
    assert.equal(a["gen_ai.request.stream"], true);
    assert.equal(a["gen_ai.request.temperature"], 0.7);
    assert.equal(span.attributeTypes["gen_ai.request.temperature"], "double");
    assert.equal(a["http.response.body.size"], encoder.encode(got.text).length);
    const ttft = a["gen_ai.response.time_to_first_chunk"] as number;
    assert.equal(
      span.attributeTypes["gen_ai.response.time_to_first_chunk"],
      "double",
    );
    assert.equal(a["gen_ai.latency.time_to_first_token"], ttft);
    // The first content comes after one delay; TTFT fits inside the span.
    assert.ok(ttft >= 0.024, `ttft ${ttft}`);
    assert.ok(ttft <= Number(durationNs(span)) / 1e9);
    assert.equal(span.status.code, UNSET);
    assert.equal(a["error.type"], undefined);
  });
});

test("embeddings: operation, model and input tokens", async () => {
  const id = newId("embeddings");
  const llm = createFakeLlm({ promptTokens: 7 });
  await withServer(traced(id, llm.handler), async (srv) => {
    const res = await postJson(`${srv.origin}/v1/embeddings`, {
      model: "fake-embed",
      input: ["a", "b"],
    });
    const body = await res.json();
    assert.equal(body.data.length, 2);
    const span = await serverSpan(id);
    const a = span.attributes;
    assert.equal(span.name, "POST /v1/embeddings");
    assert.equal(a["gen_ai.operation.name"], "embeddings");
    assert.equal(a["gen_ai.request.model"], "fake-embed");
    assert.equal(a["gen_ai.response.model"], "fake-embed-2024-01-01");
    assert.equal(a["gen_ai.usage.input_tokens"], 7);
    assert.equal(a["gen_ai.usage.output_tokens"], undefined);
  });
});

test("a non-GenAI route gets only HTTP attributes", async () => {
  const id = newId("health");
  await withServer(
    traced(id, () => new Response("ok")),
    async (srv) => {
      const res = await fetch(`${srv.origin}/health?probe=1`);
      assert.equal(await res.text(), "ok");
      const span = await serverSpan(id);
      assert.equal(span.name, "GET /health");
      assert.equal(span.attributes["url.path"], "/health");
      assert.equal(span.attributes["http.request.method"], "GET");
      assert.equal(span.attributes["http.response.status_code"], 200);
      assert.deepEqual(
        Object.keys(span.attributes).filter((k) => k.startsWith("gen_ai.")),
        [],
      );
    },
  );
});

// ---------------------------------------------------------------------------
// Cancellation and errors
// ---------------------------------------------------------------------------

for (
  const how of ["AbortController", "reader.cancel()"] as const
) {
  test(`a client that leaves mid-stream (${how}) cancels the span and the LLM`, async () => {
    const id = newId("cancel");
    const llm = createFakeLlm({
      pieces: Array.from({ length: 40 }, (_, i) => `w${i} `),
      delayMs: 30,
    });
    await withServer(traced(id, llm.handler), async (srv) => {
      const ac = new AbortController();
      const res = await postJson(chatUrl(srv), {
        model: "fake-model",
        messages: MESSAGES,
        stream: true,
      }, { signal: ac.signal });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let text = "";
      for (let i = 0; i < 50 && !text.includes("w1 "); i++) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      assert.ok(text.includes("w1 "), "got some content first");
      if (how === "AbortController") {
        ac.abort();
        await reader.read().catch(() => {});
      } else {
        await reader.cancel();
      }

      assert.equal(
        await llm.waitForCancel(0, 8000),
        true,
        "the cancel reached the LLM's stream",
      );
      const span = await serverSpan(id);
      assert.equal(span.attributes["error.type"], "cancelled");
      assert.equal(span.status.code, ERROR);
      assert.equal(llm.streams[0].finished, false);
      assert.ok(llm.streams[0].eventsSent < 40, "generation stopped early");
      // What was observed before the cancel is still recorded.
      assert.equal(span.attributes["gen_ai.request.model"], "fake-model");
      assert.equal(
        typeof span.attributes["llmtrace.response.chunks"],
        "number",
      );
      assert.ok(
        (span.attributes["gen_ai.response.time_to_first_chunk"] as number) > 0,
      );
    });
  });
}

class BoomError extends Error {
  override name = "BoomError";
}

test("a handler that throws: ERROR status, exception event, a 500", async () => {
  const id = newId("throw");
  const handlers: ServeHandler[] = [
    () => {
      throw new BoomError("kaboom");
    },
    async (req) => {
      await req.json();
      await sleep(5);
      throw new BoomError("kaboom");
    },
  ];
  // The runtime's error hook sees the handler's own error, re-thrown. (Bun's
  // default hook would fail the running test under `bun test`, so one is
  // always passed there; Deno also runs once with its default below.)
  const reached: unknown[] = [];
  for (const h of handlers) {
    await withServer(traced(id, h), async (srv) => {
      const res = await postJson(chatUrl(srv), {
        model: "fake-model",
        messages: MESSAGES,
      });
      assert.equal(res.status, 500);
      await res.arrayBuffer();
    }, {
      onError(e) {
        reached.push(e);
        return new Response("Internal Server Error", { status: 500 });
      },
    });
  }
  assert.equal(reached.length, 2);
  for (const e of reached) {
    assert.ok(e instanceof BoomError, "the original error reached the runtime");
  }
  if (currentRuntime() === "deno") {
    await withServer(traced(id, handlers[1]), async (srv) => {
      const res = await postJson(chatUrl(srv), { model: "fake-model" });
      assert.equal(res.status, 500, "Deno's own 500");
      await res.arrayBuffer();
    });
  }
  const spans = await serverSpans(id, currentRuntime() === "deno" ? 3 : 2);
  for (const span of spans) {
    assert.equal(span.status.code, ERROR);
    assert.equal(span.status.message, "kaboom");
    assert.equal(span.attributes["error.type"], "BoomError");
    assert.equal(span.attributes["http.response.status_code"], undefined);
    const ev = span.events.find((e) => e.name === "exception");
    assert.ok(ev, "exception event");
    assert.equal(ev.attributes["exception.message"], "kaboom");
    assert.equal(ev.attributes["exception.type"], "BoomError");
  }
  // A handler that read its body before throwing still gets request
  // attributes. (One that throws at once may lose them under Bun, which
  // drops the unread request body as soon as it answers.)
  assert.ok(
    spans.filter((s) => s.attributes["gen_ai.request.model"] === "fake-model")
      .length >= spans.length - 1,
    "gen_ai.request.model on the spans of handlers that read the body",
  );
});

test("5xx responses are errors, 4xx are not (server span)", async () => {
  const id503 = newId("503");
  const id400 = newId("400");
  await withServer(
    traced(id503, () => new Response("busy", { status: 503 })),
    async (srv) => {
      const res = await postJson(chatUrl(srv), { model: "m" });
      assert.equal(res.status, 503);
      assert.equal(await res.text(), "busy");
    },
  );
  await withServer(
    traced(id400, () => Response.json({ error: "bad" }, { status: 400 })),
    async (srv) => {
      const res = await postJson(chatUrl(srv), { model: "m" });
      assert.equal(res.status, 400);
      await res.arrayBuffer();
    },
  );
  const s503 = await serverSpan(id503);
  assert.equal(s503.status.code, ERROR);
  assert.equal(s503.attributes["error.type"], "503");
  assert.equal(s503.attributes["http.response.status_code"], 503);
  assert.equal(s503.attributeTypes["http.response.status_code"], "int");
  const s400 = await serverSpan(id400);
  assert.equal(s400.status.code, UNSET);
  assert.equal(s400.attributes["error.type"], undefined);
  assert.equal(s400.attributes["http.response.status_code"], 400);
});

// ---------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------

/** A handler that answers with the exact bytes it was sent. */
const echo: ServeHandler = async (req) =>
  new Response(await req.arrayBuffer(), {
    headers: { "content-type": "application/octet-stream" },
  });

test("a malformed JSON body reaches the handler byte for byte", async () => {
  const id = newId("malformed");
  const sent = new Uint8Array([
    ...encoder.encode('{"model": "fake-model", "messages": ['),
    0xff,
    0xfe,
    0x00,
    ...encoder.encode("\u00e9\u{1f30d}"),
  ]);
  await withServer(traced(id, echo), async (srv) => {
    const res = await fetch(chatUrl(srv), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: sent,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), sent);
  });
  const span = await serverSpan(id);
  assert.equal(span.status.code, UNSET);
  assert.equal(span.attributes["gen_ai.operation.name"], "chat");
  assert.equal(span.attributes["gen_ai.request.model"], undefined);
  assert.equal(span.attributes["http.response.status_code"], 200);
});

test("a body over maxBodyBytes is not parsed and arrives intact", async () => {
  const id = newId("big");
  const small: Uint8Array<ArrayBuffer> = encoder.encode(
    JSON.stringify({ model: "small-model" }),
  );
  const big: Uint8Array<ArrayBuffer> = encoder.encode(JSON.stringify({
    model: "big-model",
    messages: [{ role: "user", content: "x".repeat(64 * 1024) }],
  }));
  await withServer(
    traced(id, echo, { maxBodyBytes: 1024 }),
    async (srv) => {
      // Small: parsed. Big with content-length: skipped up front. Big and
      // streamed (no content-length): read, found too big, dropped.
      const bodies: [Uint8Array<ArrayBuffer>, boolean][] = [
        [small, false],
        [big, false],
        [big, true],
      ];
      for (const [body, streamed] of bodies) {
        const init: RequestInit & { duplex?: string } = {
          method: "POST",
          headers: { "content-type": "application/json" },
        };
        if (streamed) {
          let sentParts = 0;
          init.body = new ReadableStream<Uint8Array>({
            pull(c) {
              const part = body.subarray(sentParts * 4096, ++sentParts * 4096);
              if (part.byteLength === 0) c.close();
              else c.enqueue(part.slice());
            },
          });
          init.duplex = "half";
        } else init.body = body;
        const res = await fetch(`${chatUrl(srv)}`, init);
        assert.equal(res.status, 200);
        const back = new Uint8Array(await res.arrayBuffer());
        assert.equal(back.byteLength, body.byteLength);
        assert.deepEqual(back, body);
      }
    },
  );
  const spans = await serverSpans(id, 3);
  const models = spans.map((s) => s.attributes["gen_ai.request.model"]).sort();
  assert.deepEqual(models, ["small-model", undefined, undefined]);
  for (const s of spans) assert.equal(s.status.code, UNSET);
});

// ---------------------------------------------------------------------------
// Incoming trace context
// ---------------------------------------------------------------------------

const CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";
const TRACEPARENT = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;

test("an incoming traceparent is the parent by default", async () => {
  const id = newId("tp-trusted");
  await withServer(
    traced(id, () => new Response("ok")),
    async (srv) => {
      const res = await fetch(`${srv.origin}/x`, {
        headers: { traceparent: TRACEPARENT, tracestate: "vendor=1" },
      });
      await res.arrayBuffer();
    },
  );
  const span = await serverSpan(id);
  assert.equal(span.traceId, CALLER_TRACE);
  assert.equal(span.parentSpanId, CALLER_SPAN);
  assert.equal(span.traceState, "vendor=1");
  assert.deepEqual(span.links, []);
});

test("trustIncomingContext:false starts a new trace linked to the caller", async () => {
  const id = newId("tp-untrusted");
  await withServer(
    traced(id, () => new Response("ok"), { trustIncomingContext: false }),
    async (srv) => {
      const res = await fetch(`${srv.origin}/x`, {
        headers: { traceparent: TRACEPARENT },
      });
      await res.arrayBuffer();
    },
  );
  const span = await serverSpan(id);
  assert.notEqual(span.traceId, CALLER_TRACE);
  assert.match(span.traceId, /^[0-9a-f]{32}$/);
  assert.equal(span.parentSpanId, undefined);
  assert.equal(span.links.length, 1);
  assert.equal(span.links[0].traceId, CALLER_TRACE);
  assert.equal(span.links[0].spanId, CALLER_SPAN);
});

test("trustIncomingContext as a function decides per request", async () => {
  const id = newId("tp-fn");
  await withServer(
    traced(id, () => new Response("ok"), {
      trustIncomingContext: (req) => req.headers.get("x-internal") === "yes",
    }),
    async (srv) => {
      for (const internal of ["yes", "no"]) {
        const res = await fetch(`${srv.origin}/${internal}`, {
          headers: { traceparent: TRACEPARENT, "x-internal": internal },
        });
        await res.arrayBuffer();
      }
    },
  );
  const spans = await serverSpans(id, 2);
  const trusted = spans.find((s) => s.attributes["url.path"] === "/yes")!;
  const untrusted = spans.find((s) => s.attributes["url.path"] === "/no")!;
  assert.equal(trusted.traceId, CALLER_TRACE);
  assert.equal(trusted.parentSpanId, CALLER_SPAN);
  assert.deepEqual(trusted.links, []);
  assert.notEqual(untrusted.traceId, CALLER_TRACE);
  assert.equal(untrusted.parentSpanId, undefined);
  assert.deepEqual(
    untrusted.links.map((l) => [l.traceId, l.spanId]),
    [[CALLER_TRACE, CALLER_SPAN]],
  );
});

// ---------------------------------------------------------------------------
// Privacy
// ---------------------------------------------------------------------------

test("credential headers are never recorded, listed normal headers are", async () => {
  const id = newId("headers");
  const llm = createFakeLlm();
  await withServer(
    traced(id, llm.handler, {
      captureHeaders: [
        "Authorization",
        "cookie",
        "x-api-key",
        "Proxy-Authorization",
        "X-Request-Id",
        "x-not-sent", // listed but not sent: absent
      ],
    }),
    async (srv) => {
      const res = await postJson(chatUrl(srv), {
        model: "fake-model",
        messages: MESSAGES,
      }, {
        headers: {
          authorization: "Bearer sk-secret-AAA",
          cookie: "session=secret-BBB",
          "x-api-key": "secret-CCC",
          "proxy-authorization": "Basic secret-DDD",
          "x-request-id": "req-123",
        },
      });
      await res.arrayBuffer();
    },
  );
  const span = await serverSpan(id);
  assert.deepEqual(span.attributes["http.request.header.x-request-id"], [
    "req-123",
  ]);
  assert.equal(
    span.attributeTypes["http.request.header.x-request-id"],
    "array",
  );
  assert.equal(span.attributes["http.request.header.x-not-sent"], undefined);
  for (const k of Object.keys(span.attributes)) {
    assert.ok(
      !/authorization|cookie|api-key/.test(k),
      `credential header recorded as ${k}`,
    );
  }
  assert.ok(!dump(span).includes("secret"), "no credential value anywhere");
  // Content is off by default.
  assert.equal(span.attributes["gen_ai.input.messages"], undefined);
  assert.equal(span.attributes["gen_ai.output.messages"], undefined);
});

test("captureContent: prompts and completions only when opted in", async () => {
  const off = newId("content-off");
  const on = newId("content-on");
  const llm = createFakeLlm({ delayMs: 2 });
  for (const [id, captureContent] of [[off, false], [on, true]] as const) {
    await withServer(
      traced(id, llm.handler, { captureContent }),
      async (srv) => {
        for (const stream of [false, true]) {
          const res = await postJson(chatUrl(srv), {
            model: "fake-model",
            messages: MESSAGES,
            stream,
          });
          await res.arrayBuffer();
        }
      },
    );
  }
  const expectedOutput = [{
    role: "assistant",
    parts: [{ type: "text", content: "Hello, world!" }],
  }];
  for (const s of await serverSpans(off, 2)) {
    assert.equal(s.attributes["gen_ai.input.messages"], undefined);
    assert.equal(s.attributes["gen_ai.output.messages"], undefined);
    assert.ok(!dump(s).includes("Say hello"), "no prompt text");
    assert.ok(!dump(s).includes("world!"), "no completion text");
  }
  const spansOn = await serverSpans(on, 2);
  assert.deepEqual(
    spansOn.map((s) => s.attributes["gen_ai.request.stream"]).sort(),
    [false, true],
  );
  for (const s of spansOn) {
    assert.deepEqual(
      JSON.parse(s.attributes["gen_ai.input.messages"] as string),
      MESSAGES,
    );
    assert.deepEqual(
      JSON.parse(s.attributes["gen_ai.output.messages"] as string),
      expectedOutput,
    );
  }
});

// ---------------------------------------------------------------------------
// Semantic-convention mode
// ---------------------------------------------------------------------------

test("OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental: current names only", async () => {
  const id = newId("latest");
  const llm = createFakeLlm({ delayMs: 2 });
  const previous = process.env.OTEL_SEMCONV_STABILITY_OPT_IN;
  let handler: ServeHandler;
  process.env.OTEL_SEMCONV_STABILITY_OPT_IN =
    "http, gen_ai_latest_experimental";
  try {
    handler = traced(id, llm.handler);
  } finally {
    if (previous === undefined) {
      delete process.env.OTEL_SEMCONV_STABILITY_OPT_IN;
    } else process.env.OTEL_SEMCONV_STABILITY_OPT_IN = previous;
  }
  await withServer(handler, async (srv) => {
    for (const stream of [false, true]) {
      const res = await postJson(chatUrl(srv), {
        model: "fake-model",
        messages: MESSAGES,
        n: 1,
        stream,
        stream_options: stream ? { include_usage: true } : undefined,
      });
      await res.arrayBuffer();
    }
  });
  const spans = await serverSpans(id, 2);
  for (const s of spans) {
    const a = s.attributes;
    assert.equal(a["gen_ai.request.choice.count"], 1);
    assert.equal(a["gen_ai.usage.input_tokens"], 11);
    assert.equal(a["gen_ai.usage.output_tokens"], 4);
    for (
      const legacy of [
        "gen_ai.usage.prompt_tokens",
        "gen_ai.usage.completion_tokens",
        "gen_ai.request.n",
        "gen_ai.latency.time_to_first_token",
        "gen_ai.usage.num_sequences",
      ]
    ) assert.equal(a[legacy], undefined, legacy);
  }
  const streamed = spans.find((s) => s.attributes["gen_ai.request.stream"]);
  assert.ok(
    (streamed!.attributes["gen_ai.response.time_to_first_chunk"] as number) > 0,
  );
});

// ---------------------------------------------------------------------------
// Handler context and runtime arguments
// ---------------------------------------------------------------------------

test("contextOf(req) is the server span's context", async () => {
  const id = newId("contextof");
  let outside: unknown = "unset";
  await withServer(
    traced(id, (req) => {
      const ctx = contextOf(req);
      const child = tracer.startSpan(
        "handler-child",
        { attributes: { "test.id": id } },
        ctx,
      );
      child.end();
      const serverSpanId = ctx ? trace.getSpan(ctx)?.spanContext().spanId : "";
      return Response.json({ serverSpanId });
    }),
    async (srv) => {
      outside = contextOf(new Request(srv.origin));
      const res = await fetch(`${srv.origin}/work`);
      const body = await res.json();
      const span = await serverSpan(id);
      assert.equal(body.serverSpanId, span.spanId);
      const child = await waitFor(
        "handler-child",
        (spans) =>
          spans.find((s) =>
            s.name === "handler-child" && s.attributes["test.id"] === id
          ),
      );
      assert.equal(child.kind, INTERNAL);
      assert.equal(child.traceId, span.traceId);
      assert.equal(child.parentSpanId, span.spanId);
    },
  );
  assert.equal(outside, undefined, "a request traceHandler did not wrap");
});

test("the runtime's extra handler arguments pass through", async () => {
  const id = newId("rest");
  let seen: unknown[] = [];
  // Deno's info.remoteAddr is only readable while the request is open.
  let remote: { hostname: string; port: number; transport: string } | null =
    null;
  await withServer(
    traced(id, (_req: Request, ...rest: unknown[]) => {
      seen = rest;
      const info = rest[0] as { remoteAddr?: typeof remote } | undefined;
      if (currentRuntime() === "deno") remote = info?.remoteAddr ?? null;
      return new Response("ok");
    }),
    async (srv) => {
      const res = await fetch(`${srv.origin}/rest`);
      assert.equal(await res.text(), "ok");
      assert.ok(seen.length >= 1, "an extra argument arrived");
      if (currentRuntime() === "deno") {
        assert.ok(remote, "Deno's info.remoteAddr");
        const r = remote as {
          hostname: string;
          port: number;
          transport: string;
        };
        assert.equal(r.transport, "tcp");
        assert.equal(r.hostname, "127.0.0.1");
        assert.ok(r.port > 0);
      } else {
        assert.equal(seen[0], srv.raw, "Bun's server object");
        const server = seen[0] as { requestIP: unknown; port: number };
        assert.equal(typeof server.requestIP, "function");
        assert.equal(server.port, srv.port);
      }
    },
  );
  const span = await serverSpan(id);
  assert.equal(span.attributes["client.address"], "127.0.0.1");
});

// ---------------------------------------------------------------------------
// More edges
// ---------------------------------------------------------------------------

test("an unknown method is recorded as _OTHER and kept out of the span name", async () => {
  const id = newId("method");
  let seen = "";
  await withServer(
    traced(id, (req) => {
      seen = req.method;
      return new Response("ok");
    }),
    async (srv) => {
      const res = await fetch(`${srv.origin}/thing`, { method: "FROBNICATE" });
      assert.equal(await res.text(), "ok");
    },
  );
  const span = await serverSpan(id);
  if (seen === "FROBNICATE") {
    assert.equal(span.attributes["http.request.method"], "_OTHER");
    assert.equal(span.attributes["http.request.method_original"], "FROBNICATE");
    // OTel HTTP semconv: an unknown method is named "HTTP" (bounded names).
    assert.equal(span.name, "HTTP");
  } else {
    // Bun hands the handler a known method for an unknown one.
    assert.equal(currentRuntime(), "bun", `the handler saw ${seen}`);
    assert.equal(span.attributes["http.request.method"], seen);
    assert.equal(span.name, seen);
  }
});

test("a response stream that fails mid-way ends the span with ERROR", async () => {
  const id = newId("stream-error");
  class UpstreamGone extends Error {
    override name = "UpstreamGone";
  }
  const errors: unknown[] = [];
  await withServer(
    traced(id, () => {
      let n = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          await sleep(5);
          if (n++ < 2) {
            c.enqueue(encoder.encode(
              `data: {"id":"x","choices":[{"index":0,"delta":{"content":"t${n}"}}]}\n\n`,
            ));
          } else c.error(new UpstreamGone("upstream closed"));
        },
      });
      return new Response(body, {
        headers: { "content-type": "text/event-stream" },
      });
    }),
    async (srv) => {
      const res = await postJson(chatUrl(srv), {
        model: "fake-model",
        stream: true,
      });
      assert.equal(res.status, 200);
      let text = "";
      try {
        const reader = res.body!.getReader();
        for (let i = 0; i < 100; i++) {
          const { done, value } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
        }
      } catch (e) {
        errors.push(e); // the runtime may abort the truncated response
      }
      assert.ok(text.includes("t1"), "the first chunks arrived");
    },
    { onError: () => new Response(null, { status: 500 }) },
  );
  const span = await serverSpan(id);
  assert.equal(span.status.code, ERROR);
  assert.equal(span.attributes["error.type"], "UpstreamGone");
  assert.equal(span.attributes["llmtrace.response.chunks"], 2);
  const ev = span.events.find((e) => e.name === "exception");
  assert.equal(ev?.attributes["exception.message"], "upstream closed");
});

test("a JSON response over maxBodyBytes passes intact and unread", async () => {
  const id = newId("big-response");
  const answer = {
    id: "chatcmpl-big",
    model: "fake-model",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "y".repeat(32 * 1024) },
      finish_reason: "stop",
    }],
    usage: { prompt_tokens: 3, completion_tokens: 9 },
  };
  const bytes = encoder.encode(JSON.stringify(answer));
  await withServer(
    traced(id, async (req) => {
      // Read the request body as LLM handlers do (Bun drops an unread one
      // once the response is sent, and request attributes with it).
      await req.arrayBuffer();
      return new Response(bytes.slice(), {
        headers: { "content-type": "application/json" },
      });
    }, { maxBodyBytes: 1024 }),
    async (srv) => {
      const res = await postJson(chatUrl(srv), { model: "fake-model" });
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), bytes);
    },
  );
  const span = await serverSpan(id);
  assert.equal(span.attributes["gen_ai.request.model"], "fake-model");
  assert.equal(span.attributes["gen_ai.usage.output_tokens"], undefined);
  assert.equal(span.attributes["gen_ai.response.id"], undefined);
  // Not read past the limit (a JSON answer is read through a clone, whose
  // reading past the limit would buffer the body for a slow client), and
  // no Content-Length declared it: the size is not recorded.
  assert.equal(span.attributes["http.response.body.size"], undefined);
  assert.equal(span.status.code, UNSET);
});
