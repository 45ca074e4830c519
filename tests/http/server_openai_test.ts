// traceHandler under the official `openai` client (real servers, a real
// OTLP receiver): the server span records what the client received,
// non-streamed and streamed.
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { createFakeLlm } from "../support/fake_llm.ts";
import { withServer } from "../support/servers.ts";
import {
  dump,
  durationNs,
  newId,
  serverSpanQueries,
  traced,
  UNSET,
} from "./server_support.ts";

let receiver: OtlpReceiver;

useTracing("server-openai-test", (t) => {
  receiver = t.receiver;
});

const { serverSpan } = serverSpanQueries(() => receiver);

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
    const ttft = a["gen_ai.latency.time_to_first_token"] as number;
    assert.equal(typeof ttft, "number");
    assert.ok(ttft > 0, `ttft ${ttft}`);
    assert.ok(ttft <= Number(durationNs(span)) / 1e9, "TTFT <= span duration");
    assert.equal(a["gen_ai.response.time_to_first_chunk"], undefined);
    assert.equal(span.status.code, UNSET);
  });
});
