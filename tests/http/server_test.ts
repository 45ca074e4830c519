// traceHandler end to end (real servers, fetch, a real OTLP receiver): the
// HTTP and GenAI attributes of a server span, its name and route, errors
// and status, the semantic-convention mode. Streams: server_stream_test.ts;
// the openai client: server_openai_test.ts; bodies: server_body_test.ts;
// trace context and handler arguments: server_context_test.ts; headers and
// content: server_privacy_test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { createFakeLlm } from "../support/fake_llm.ts";
import { sleep } from "../support/helpers.ts";
import {
  currentRuntime,
  type ServeHandler,
  withServer,
} from "../support/servers.ts";
import {
  chatUrl,
  ERROR,
  MESSAGES,
  newId,
  postJson,
  SERVER,
  serverSpanQueries,
  traced,
  UNSET,
} from "./server_support.ts";

let receiver: OtlpReceiver;

useTracing("server-test", (t) => {
  receiver = t.receiver;
});

const { serverSpan, serverSpans } = serverSpanQueries(() => receiver);

const decoder = new TextDecoder();

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
    assert.equal(span.resource["service.name"], "server-test");
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
// Errors
// ---------------------------------------------------------------------------

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
        "gen_ai.usage.num_sequences",
        // the client's time to first chunk is not a SERVER span's
        "gen_ai.response.time_to_first_chunk",
      ]
    ) assert.equal(a[legacy], undefined, legacy);
  }
  // The server-side TTFT has no current span attribute: vLLM's name stays.
  const streamed = spans.find((s) => s.attributes["gen_ai.request.stream"]);
  assert.ok(
    (streamed!.attributes["gen_ai.latency.time_to_first_token"] as number) > 0,
  );
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
