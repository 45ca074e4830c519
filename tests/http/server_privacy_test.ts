// traceHandler and privacy, over real servers and fetch, to a real OTLP
// receiver: credential headers are never recorded, listed headers are, and
// prompts and completions only with captureContent.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { createFakeLlm } from "../support/fake_llm.ts";
import { withServer } from "../support/servers.ts";
import {
  chatUrl,
  dump,
  MESSAGES,
  newId,
  postJson,
  serverSpanQueries,
  traced,
} from "./server_support.ts";

let receiver: OtlpReceiver;

useTracing("server-privacy-test", (t) => {
  receiver = t.receiver;
});

const { serverSpan, serverSpans } = serverSpanQueries(() => receiver);

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
    // The message-parts schema; the chat's system message stays in the
    // history with its role.
    assert.deepEqual(
      JSON.parse(s.attributes["gen_ai.input.messages"] as string),
      [
        {
          role: "system",
          parts: [{ type: "text", content: "You are terse." }],
        },
        {
          role: "user",
          parts: [{ type: "text", content: "Say hello to the world." }],
        },
      ],
    );
    assert.equal(s.attributes["gen_ai.system_instructions"], undefined);
    assert.deepEqual(
      JSON.parse(s.attributes["gen_ai.output.messages"] as string),
      expectedOutput,
    );
  }
});
