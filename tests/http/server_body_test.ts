// traceHandler and bodies, over real servers and fetch, to a real OTLP
// receiver: a malformed request body, and request and response bodies over
// maxBodyBytes, pass intact; what is past the limit is not parsed.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { type ServeHandler, withServer } from "../support/servers.ts";
import {
  chatUrl,
  newId,
  postJson,
  serverSpanQueries,
  traced,
  UNSET,
} from "./server_support.ts";

let receiver: OtlpReceiver;

useTracing("server-body-test", (t) => {
  receiver = t.receiver;
});

const { serverSpan, serverSpans } = serverSpanQueries(() => receiver);

const encoder = new TextEncoder();

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
// Response bodies
// ---------------------------------------------------------------------------

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
