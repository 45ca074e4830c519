// The official clients of the three other wire APIs through a traced router
// (traceHandler + tracedFetch) in front of a fake upstream speaking them
// (tests/support/wire_apis.ts: the providers' examples and recordings of
// the live APIs): `openai` responses.create, `@anthropic-ai/sdk`
// messages.create and messages.stream, `@google/genai` generateContent and
// generateContentStream. Both spans carry the operation, provider, models,
// finish reasons, tokens and, for streams, the time to the first content
// delta (the upstream waits before it, after its preamble); checked at the
// independent OTLP receiver.
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { forceFlush, tracedFetch, traceHandler } from "../../mod.ts";
import type { ReceivedSpan } from "../support/otlp_receiver.ts";
import { withServer } from "../support/servers.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";
import {
  ANTHROPIC_MODEL,
  GEMINI_JSON,
  GEMINI_MODEL,
  geminiEvents,
  geminiText,
  MESSAGES_JSON,
  MESSAGES_STREAM_TEXT,
  RESPONSES_TEXT,
  wireUpstream,
} from "../support/wire_apis.ts";
import { CLIENT, SERVER, UNSET } from "./client_support.ts";

const FIRST_CONTENT_DELAY_MS = 60;

let t: Tracing;
useTracing("wire-clients-test", (ready) => (t = ready), {
  OTEL_METRICS_EXPORTER: "none",
});

/** A router forwarding every path (and query) upstream; spans tagged `id`. */
function router(upstream: string, id: string) {
  return traceHandler(async (req: Request) => {
    const u = new URL(req.url);
    return await tracedFetch(`${upstream}${u.pathname}${u.search}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: await req.text(),
    }, { request: req, attributes: { "test.id": id } });
  }, { attributes: { "test.id": id } });
}

async function spansOf(id: string): Promise<[ReceivedSpan, ReceivedSpan]> {
  await forceFlush();
  const spans = await t.receiver.waitForSpans(
    (all) => all.filter((s) => s.attributes["test.id"] === id).length >= 2,
    { timeoutMs: 10_000, message: `spans of ${id}` },
  );
  const mine = spans.filter((s) => s.attributes["test.id"] === id);
  return [
    mine.find((s) => s.kind === SERVER)!,
    mine.find((s) => s.kind === CLIENT)!,
  ];
}

/** Runs `call` against a router in front of the fake upstream. */
async function throughRouter(
  id: string,
  call: (origin: string) => Promise<void>,
): Promise<[ReceivedSpan, ReceivedSpan]> {
  const up = wireUpstream({ firstContentDelayMs: FIRST_CONTENT_DELAY_MS });
  let spans!: [ReceivedSpan, ReceivedSpan];
  await withServer(up.handler, async (u) => {
    await withServer(router(u.origin, id), async (r) => {
      await call(r.origin);
      spans = await spansOf(id);
    });
  });
  return spans;
}

interface Expected {
  operation: string;
  provider: string;
  requestModel: string;
  responseModel: string;
  responseId: string;
  finish: string[];
  input: number;
  output: number;
  streamed: boolean;
  extra?: Record<string, unknown>;
}

function check(spans: [ReceivedSpan, ReceivedSpan], e: Expected): void {
  const [server, client] = spans;
  assert.ok(server && client, "a SERVER and a CLIENT span");
  assert.equal(client.name, `${e.operation} ${e.requestModel}`);
  assert.equal(client.attributes["gen_ai.provider.name"], e.provider);
  for (const s of [server, client]) {
    const where = s.kind === SERVER ? "server" : "client";
    assert.equal(s.status.code, UNSET, `${where}: ${s.status.message}`);
    assert.equal(s.attributes["error.type"], undefined, where);
    const a = s.attributes;
    assert.equal(a["gen_ai.operation.name"], e.operation, where);
    assert.equal(a["gen_ai.request.model"], e.requestModel, where);
    assert.equal(a["gen_ai.response.model"], e.responseModel, where);
    assert.equal(a["gen_ai.response.id"], e.responseId, where);
    assert.deepEqual(a["gen_ai.response.finish_reasons"], e.finish, where);
    assert.equal(a["gen_ai.usage.input_tokens"], e.input, where);
    assert.equal(a["gen_ai.usage.output_tokens"], e.output, where);
    for (const [k, v] of Object.entries(e.extra ?? {})) {
      assert.deepEqual(a[k], v, `${where}: ${k}`);
    }
    // The client's time to first chunk; the SERVER span's own first token
    // under vLLM's server-side name.
    const ttft = a[
      where === "server"
        ? "gen_ai.latency.time_to_first_token"
        : "gen_ai.response.time_to_first_chunk"
    ];
    if (where === "server") {
      assert.equal(a["gen_ai.response.time_to_first_chunk"], undefined);
    }
    if (e.streamed) {
      assert.equal(typeof ttft, "number", `${where}: TTFT recorded`);
      // To the first content delta, which the upstream holds back: not to
      // message_start / response.created, which come at once.
      assert.ok(
        (ttft as number) >= (FIRST_CONTENT_DELAY_MS - 5) / 1000,
        `${where}: TTFT ${ttft} s at the first content, not the preamble`,
      );
      assert.ok(
        (ttft as number) * 1e9 <
          Number(s.endTimeUnixNano - s.startTimeUnixNano),
        `${where}: the span lasts past the first chunk`,
      );
    } else {
      assert.equal(ttft, undefined, `${where}: no TTFT without a stream`);
    }
  }
}

const RESPONSES = {
  operation: "chat",
  provider: "openai",
  requestModel: "gpt-4.1",
  responseModel: "gpt-4.1-2025-04-14",
  responseId: "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654",
  finish: ["stop"],
  input: 37,
  output: 11,
};

test("openai responses.create, not streamed", async () => {
  const spans = await throughRouter("responses-json", async (origin) => {
    const client = new OpenAI({
      baseURL: `${origin}/v1`,
      apiKey: "test",
      maxRetries: 0,
    });
    const res = await client.responses.create({
      model: "gpt-4.1",
      instructions: "You are a helpful assistant.",
      input: "Hello!",
      max_output_tokens: 64,
      temperature: 0.5,
    });
    assert.equal(res.output_text, RESPONSES_TEXT);
  });
  check(spans, {
    ...RESPONSES,
    streamed: false,
    extra: {
      "gen_ai.request.max_tokens": 64,
      "gen_ai.request.temperature": 0.5,
    },
  });
});

test("openai responses.create, streamed", async () => {
  const spans = await throughRouter("responses-sse", async (origin) => {
    const client = new OpenAI({
      baseURL: `${origin}/v1`,
      apiKey: "test",
      maxRetries: 0,
    });
    const stream = await client.responses.create({
      model: "gpt-4.1",
      input: "Hello!",
      stream: true,
    });
    let text = "";
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") text += event.delta;
    }
    assert.equal(text, RESPONSES_TEXT);
  });
  check(spans, {
    ...RESPONSES,
    streamed: true,
    extra: { "gen_ai.request.stream": true },
  });
});

const MESSAGES = {
  operation: "chat",
  provider: "anthropic",
  requestModel: ANTHROPIC_MODEL,
  responseModel: ANTHROPIC_MODEL,
};

test("anthropic messages.create: the usage with its cache counts", async () => {
  const spans = await throughRouter("messages-json", async (origin) => {
    const client = new Anthropic({
      baseURL: origin,
      apiKey: "test",
      maxRetries: 0,
    });
    const msg = await client.messages.create({
      model: ANTHROPIC_MODEL,
      max_tokens: 1024,
      stop_sequences: ["\n\nHuman:"],
      system: "You are Claude.",
      messages: [{ role: "user", content: "Hello, Claude" }],
    });
    assert.deepEqual(msg.content, MESSAGES_JSON.content);
  });
  check(spans, {
    ...MESSAGES,
    responseId: "msg_01T4jd6NyD9xGGtTPDC4ogy5",
    finish: ["end_turn"],
    input: 406,
    output: 50,
    streamed: false,
    extra: {
      "gen_ai.request.max_tokens": 1024,
      "gen_ai.request.stop_sequences": ["\n\nHuman:"],
      "gen_ai.usage.cache_read.input_tokens": 0,
      "gen_ai.usage.cache_write.input_tokens": 0,
      "gen_ai.usage.cache_creation.input_tokens": 0,
    },
  });
});

test("anthropic messages.stream", async () => {
  const spans = await throughRouter("messages-sse", async (origin) => {
    const client = new Anthropic({
      baseURL: origin,
      apiKey: "test",
      maxRetries: 0,
    });
    const stream = client.messages.stream({
      model: ANTHROPIC_MODEL,
      max_tokens: 1024,
      messages: [{ role: "user", content: "Hello" }],
    });
    const msg = await stream.finalMessage();
    assert.deepEqual(msg.content, [{
      type: "text",
      text: MESSAGES_STREAM_TEXT,
      ...(msg.content[0] && "citations" in msg.content[0]
        ? { citations: msg.content[0].citations }
        : {}),
    }]);
  });
  check(spans, {
    ...MESSAGES,
    responseId: "msg_013nnniYDrJDocdy5nrMU7cH",
    finish: ["end_turn"],
    input: 135,
    output: 10,
    streamed: true,
  });
});

const GEMINI = {
  operation: "generate_content",
  provider: "gcp.gemini",
  requestModel: GEMINI_MODEL,
  responseModel: GEMINI_MODEL,
  finish: ["MAX_TOKENS"],
  input: 7,
};

test("@google/genai generateContent: the model from the path, thoughts in the output tokens", async () => {
  const spans = await throughRouter("gemini-json", async (origin) => {
    const ai = new GoogleGenAI({
      apiKey: "test",
      httpOptions: { baseUrl: origin },
    });
    const res = await ai.models.generateContent({
      model: GEMINI_MODEL,
      contents: "Explain how AI works in a few words",
      config: { temperature: 0.1, topK: 20, maxOutputTokens: 800 },
    });
    assert.equal(res.text, geminiText([GEMINI_JSON]));
  });
  check(spans, {
    ...GEMINI,
    responseId: "cS4WaZXcHp7nz7IPjcjT2Ao",
    output: 157 + 41,
    streamed: false,
    extra: {
      "gen_ai.usage.reasoning.output_tokens": 41,
      "gen_ai.request.top_k": 20,
      "gen_ai.request.max_tokens": 800,
      "gen_ai.request.stream": false,
    },
  });
  for (const s of spans) {
    assert.equal(s.attributeTypes["gen_ai.request.top_k"], "int");
  }
});

test("@google/genai generateContentStream (alt=sse)", async () => {
  const spans = await throughRouter("gemini-sse", async (origin) => {
    const ai = new GoogleGenAI({
      apiKey: "test",
      httpOptions: { baseUrl: origin },
    });
    const stream = await ai.models.generateContentStream({
      model: GEMINI_MODEL,
      contents: "Explain how AI works in a few words",
    });
    let text = "";
    for await (const chunk of stream) text += chunk.text ?? "";
    assert.equal(
      text,
      geminiText(geminiEvents().map(([, d]) => JSON.parse(String(d)))),
    );
  });
  check(spans, {
    ...GEMINI,
    responseId: "qS77aMCqBu6mvr0PsJiykAw",
    output: 153 + 45,
    streamed: true,
    extra: { "gen_ai.request.stream": true },
  });
  assert.match(
    String(spans[0].attributes["url.path"]),
    /^\/v1(beta)?\/models\//,
  );
});

test("captureContent: messages in the parts schema, system instructions apart, for each API", async () => {
  const id = "capture";
  const up = wireUpstream();
  await withServer(up.handler, async (u) => {
    const handler = traceHandler(async (req: Request) => {
      const url = new URL(req.url);
      return await tracedFetch(`${u.origin}${url.pathname}${url.search}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: await req.text(),
      }, {
        request: req,
        captureContent: true,
        attributes: { "test.id": `${id} ${url.pathname}` },
      });
    }, { captureContent: true });
    await withServer(handler, async (r) => {
      const anthropic = new Anthropic({
        baseURL: r.origin,
        apiKey: "test",
        maxRetries: 0,
      });
      await anthropic.messages.stream({
        model: ANTHROPIC_MODEL,
        max_tokens: 64,
        system: "You are Claude.",
        messages: [{ role: "user", content: "Hello" }],
      }).finalMessage();
      const openai = new OpenAI({
        baseURL: `${r.origin}/v1`,
        apiKey: "test",
        maxRetries: 0,
      });
      await openai.responses.create({
        model: "gpt-4.1",
        instructions: "Be brief.",
        input: "Hello!",
      });
      const ai = new GoogleGenAI({
        apiKey: "test",
        httpOptions: { baseUrl: r.origin },
      });
      await ai.models.generateContent({
        model: GEMINI_MODEL,
        contents: "Explain AI",
        config: { systemInstruction: "You are a cat." },
      });
    });
  });
  await forceFlush();
  const spans = await t.receiver.waitForSpans(
    (all) =>
      all.filter((s) => String(s.attributes["test.id"]).startsWith(id))
        .length >= 3,
    { timeoutMs: 10_000, message: "capture spans" },
  );
  const by = (suffix: string) =>
    spans.find((s) =>
      String(s.attributes["test.id"]).startsWith(id) &&
      String(s.attributes["test.id"]).endsWith(suffix)
    )!;
  const json = (s: ReceivedSpan, k: string) =>
    JSON.parse(String(s.attributes[k]));
  const text = (content: string) => [{ type: "text", content }];

  const messages = by("/v1/messages");
  assert.deepEqual(json(messages, "gen_ai.input.messages"), [
    { role: "user", parts: text("Hello") },
  ]);
  assert.deepEqual(
    json(messages, "gen_ai.system_instructions"),
    text("You are Claude."),
  );
  assert.deepEqual(json(messages, "gen_ai.output.messages"), [
    { role: "assistant", parts: text(MESSAGES_STREAM_TEXT) },
  ]);

  const responses = by("/v1/responses");
  assert.deepEqual(json(responses, "gen_ai.input.messages"), [
    { role: "user", parts: text("Hello!") },
  ]);
  assert.deepEqual(
    json(responses, "gen_ai.system_instructions"),
    text("Be brief."),
  );
  assert.deepEqual(json(responses, "gen_ai.output.messages"), [
    { role: "assistant", parts: text(RESPONSES_TEXT) },
  ]);

  const gemini = by(":generateContent");
  assert.deepEqual(json(gemini, "gen_ai.input.messages"), [
    { role: "user", parts: text("Explain AI") },
  ]);
  assert.deepEqual(
    json(gemini, "gen_ai.system_instructions"),
    text("You are a cat."),
  );
  assert.deepEqual(json(gemini, "gen_ai.output.messages"), [
    {
      role: "assistant",
      parts: text(geminiText([GEMINI_JSON])),
    },
  ]);
});
