// The official `openai` client's habits through a traced router: it stops
// reading at `data: [DONE]` and cancels the body. That is a normal end of a
// successful call, not an error, on the router's SERVER span and on its
// CLIENT span to the upstream; a client that gives up mid-answer still is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertCancelled } from "./server_support.ts";
import OpenAI from "openai";
import { forceFlush, tracedFetch, traceHandler } from "../../mod.ts";
import { createFakeLlm } from "../support/fake_llm.ts";
import type { ReceivedSpan } from "../support/otlp_receiver.ts";
import { withServer } from "../support/servers.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";

const SERVER = 2;
const CLIENT = 3;
const UNSET = 0;

let t: Tracing;
useTracing("openai-client-test", (ready) => (t = ready), {
  OTEL_METRICS_EXPORTER: "none",
});

/** A router whose spans carry `id` in an attribute, for finding them. */
function router(upstream: string, id: string) {
  return traceHandler(
    async (req: Request) =>
      await tracedFetch(`${upstream}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: await req.text(),
      }, { request: req, attributes: { "test.id": id } }),
    {
      attributes: { "test.id": id },
    },
  );
}

async function spansOf(id: string): Promise<ReceivedSpan[]> {
  await forceFlush();
  const spans = await t.receiver.waitForSpans(
    (all) => all.filter((s) => s.attributes["test.id"] === id).length >= 2,
    { timeoutMs: 10_000, message: `spans of ${id}` },
  );
  return spans.filter((s) => s.attributes["test.id"] === id);
}

for (const includeUsage of [false, true]) {
  test(`openai client streams to [DONE] and cancels (include_usage ${includeUsage}): both spans succeed`, async () => {
    const id = `done-${includeUsage}`;
    const llm = createFakeLlm({ delayMs: 5 });
    await withServer(llm.handler, async (up) => {
      await withServer(router(up.origin, id), async (r) => {
        const client = new OpenAI({
          baseURL: `${r.origin}/v1`,
          apiKey: "test",
          maxRetries: 0,
        });
        const stream = await client.chat.completions.create({
          model: "fake-model",
          messages: [{ role: "user", content: "Hi" }],
          stream: true,
          ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
        });
        let text = "";
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta?.content ?? "";
        }
        assert.equal(text, "Hello, world!");
        const spans = await spansOf(id);
        const server = spans.find((s) => s.kind === SERVER)!;
        const client_ = spans.find((s) => s.kind === CLIENT)!;
        for (const s of [server, client_]) {
          assert.equal(s.status.code, UNSET, `${s.name}: ${s.status.message}`);
          assert.equal(s.attributes["error.type"], undefined, s.name);
          assert.deepEqual(s.attributes["gen_ai.response.finish_reasons"], [
            "stop",
          ]);
        }
      });
    });
  });
}

/**
 * An SSE upstream that keeps the body open for a while after `[DONE]` (a
 * real server's close can come later than its last event), so a client
 * that stops at `[DONE]` cancels before the body ends.
 */
function lingeringSse(usage: boolean) {
  const enc = new TextEncoder();
  const event = (o: unknown) => enc.encode(`data: ${JSON.stringify(o)}\n\n`);
  return (_req: Request) =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(c) {
          const base = {
            id: "c1",
            object: "chat.completion.chunk",
            model: "m",
          };
          c.enqueue(event({
            ...base,
            choices: [{
              index: 0,
              delta: { content: "Hi" },
              finish_reason: null,
            }],
          }));
          c.enqueue(event({
            ...base,
            choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
          }));
          if (usage) {
            c.enqueue(event({
              ...base,
              choices: [],
              usage: {
                prompt_tokens: 3,
                completion_tokens: 1,
                total_tokens: 4,
              },
            }));
          }
          c.enqueue(enc.encode("data: [DONE]\n\n"));
          await new Promise((r) => setTimeout(r, 400));
          try {
            c.close();
          } catch {
            // cancelled meanwhile
          }
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
}

for (const usage of [false, true]) {
  test(`openai client with tracedFetch as its fetch, cancelling at [DONE] before the body ends (usage ${usage}): the span succeeds`, async () => {
    const id = `lingering-${usage}`;
    await withServer(lingeringSse(usage), async (up) => {
      const client = new OpenAI({
        baseURL: `${up.origin}/v1`,
        apiKey: "test",
        maxRetries: 0,
        fetch: (url: string | URL | Request, init?: RequestInit) =>
          tracedFetch(url, init, { attributes: { "test.id": id } }),
      });
      const stream = await client.chat.completions.create({
        model: "m",
        messages: [{ role: "user", content: "Hi" }],
        stream: true,
        ...(usage ? { stream_options: { include_usage: true } } : {}),
      });
      let text = "";
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? "";
      }
      assert.equal(text, "Hi");
      const mine = () =>
        t.receiver.spans().filter((s) => s.attributes["test.id"] === id);
      for (let i = 0; i < 100 && mine().length < 1; i++) {
        await forceFlush();
        await new Promise((r) => setTimeout(r, 20));
      }
      const [span] = mine();
      assert.ok(span, "the CLIENT span arrived");
      assert.equal(span.status.code, UNSET, span.status.message);
      assert.equal(span.attributes["error.type"], undefined);
      assert.deepEqual(span.attributes["gen_ai.response.finish_reasons"], [
        "stop",
      ]);
    });
  });
}

test("openai client that gives up mid-answer: both spans say cancelled, not failed", async () => {
  const id = "gave-up";
  const llm = createFakeLlm({ delayMs: 30 });
  await withServer(llm.handler, async (up) => {
    await withServer(router(up.origin, id), async (r) => {
      const client = new OpenAI({
        baseURL: `${r.origin}/v1`,
        apiKey: "test",
        maxRetries: 0,
      });
      const stream = await client.chat.completions.create({
        model: "fake-model",
        messages: [{ role: "user", content: "Hi" }],
        stream: true,
      });
      let n = 0;
      for await (const _ of stream) if (++n === 2) break;
      assert.equal(
        await llm.waitForCancel(0),
        true,
        "the cancel reached the LLM",
      );
      const spans = await spansOf(id);
      assert.equal(spans.length, 2);
      for (const s of spans) assertCancelled(s);
    });
  });
});
