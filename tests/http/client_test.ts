// tracedFetch (src/http/client.ts) against real upstream servers
// (Deno.serve / Bun.serve on loopback): span names and attributes, Request
// inputs and their bodies, the returned Response; spans checked as a real
// OTLP/HTTP receiver decoded them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTraceparent, tracedFetch } from "../../mod.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";
import { startServer } from "../support/servers.ts";
import { sleep } from "../support/helpers.ts";
import {
  CHAT_BODY,
  CLIENT,
  clientChildren,
  enc,
  parentSpan,
  startUpstream,
  UNSET,
} from "./client_support.ts";

let t: Tracing;
useTracing("client-test", (ready) => (t = ready));

test("a chat completion: CLIENT span 'chat {model}' with HTTP and GenAI attributes, child of { context }", async () => {
  const up = startUpstream();
  try {
    const p = parentSpan(t, "chat");
    const res = await tracedFetch(
      `${up.origin}/v1/chat/completions?api-version=2024&key=secret`,
      {
        method: "post",
        headers: { "content-type": "application/json" },
        body: CHAT_BODY,
      },
      { context: p.ctx, providerName: "vllm" },
    );
    assert.equal(res.status, 200);
    const json = await res.json() as { usage: { completion_tokens: number } };
    assert.equal(json.usage.completion_tokens, 7);
    p.span.end();

    const [span] = await clientChildren(t, p.spanId);
    assert.equal(span.name, "chat acme/llm-1");
    assert.equal(span.kind, CLIENT);
    assert.equal(span.traceId, p.span.spanContext().traceId);
    assert.equal(span.status.code, UNSET);
    const a = span.attributes;
    assert.equal(a["http.request.method"], "POST");
    assert.equal(a["server.address"], "127.0.0.1");
    assert.equal(a["server.port"], up.port);
    assert.equal(span.attributeTypes["server.port"], "int");
    assert.equal(a["url.full"], `${up.origin}/v1/chat/completions`);
    assert.equal(a["http.response.status_code"], 200);
    assert.equal(span.attributeTypes["http.response.status_code"], "int");
    assert.equal(a["gen_ai.operation.name"], "chat");
    assert.equal(a["gen_ai.provider.name"], "vllm");
    assert.equal(a["gen_ai.request.model"], "acme/llm-1");
    assert.equal(a["gen_ai.request.max_tokens"], 32);
    assert.equal(a["gen_ai.request.temperature"], 0.25);
    assert.equal(a["gen_ai.request.top_p"], 0.5);
    assert.equal(a["gen_ai.request.stream"], false);
    // the response side, read as the JSON passed through
    assert.equal(a["gen_ai.response.model"], "acme/llm-1-served");
    assert.equal(a["gen_ai.response.id"], "chatcmpl-up-1");
    assert.equal(a["gen_ai.usage.input_tokens"], 11);
    assert.equal(a["gen_ai.usage.output_tokens"], 7);
    assert.deepEqual(a["gen_ai.response.finish_reasons"], ["stop"]);
    assert.equal(a["http.request.resend_count"], undefined);
    for (const k of Object.keys(a)) {
      assert.ok(
        !String(a[k]).includes("secret"),
        `attribute ${k} leaks the query string: ${a[k]}`,
      );
    }

    // the upstream got the full URL (query included), the body untouched
    assert.equal(up.seen.length, 1);
    assert.equal(
      up.seen[0].path,
      "/v1/chat/completions?api-version=2024&key=secret",
    );
    assert.equal(up.seen[0].body, CHAT_BODY);
    assert.equal(up.seen[0].method, "POST");
  } finally {
    await up.stop();
  }
});

test("not a GenAI call: the span is named after the method", async () => {
  const up = startUpstream();
  try {
    const p = parentSpan(t, "methods");
    const r1 = await tracedFetch(`${up.origin}/health`, undefined, {
      context: p.ctx,
    });
    assert.equal(await r1.text(), "plain GET");
    const r2 = await tracedFetch(`${up.origin}/things`, {
      method: "put",
      body: "x",
    }, { context: p.ctx });
    assert.equal(await r2.text(), "plain PUT");
    // a chat path whose body names no model is not "chat …" either
    const r3 = await tracedFetch(`${up.origin}/other`, {
      method: "POST",
      body: "{}",
    }, { context: p.ctx });
    await r3.text();
    p.span.end();
    const spans = await clientChildren(t, p.spanId, 3);
    assert.deepEqual(spans.map((s) => s.name), ["GET", "PUT", "POST"]);
    assert.deepEqual(spans.map((s) => s.attributes["http.request.method"]), [
      "GET",
      "PUT",
      "POST",
    ]);
    assert.equal(spans[0].attributes["url.full"], `${up.origin}/health`);
    assert.equal(spans[0].attributes["gen_ai.operation.name"], undefined);
  } finally {
    await up.stop();
  }
});

test("a Request input: named from its body, caller's Request and headers left untouched", async () => {
  const up = startUpstream();
  try {
    const p = parentSpan(t, "request-input");
    const input = new Request(`${up.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-caller": "1" },
      body: CHAT_BODY,
    });
    const before = [...input.headers];
    const res = await tracedFetch(input, undefined, { context: p.ctx });
    await res.arrayBuffer();
    p.span.end();
    assert.deepEqual([...input.headers], before);
    assert.equal(input.headers.get("traceparent"), null);

    const [span] = await clientChildren(t, p.spanId);
    assert.equal(span.name, "chat acme/llm-1");
    assert.equal(span.attributes["gen_ai.request.model"], "acme/llm-1");
    // what went out: the caller's headers plus traceparent, same body
    assert.equal(up.seen.length, 1);
    assert.equal(up.seen[0].headers.get("x-caller"), "1");
    assert.equal(up.seen[0].body, CHAT_BODY);
    const sc = parseTraceparent(up.seen[0].headers.get("traceparent"));
    assert.ok(sc, "the upstream got a valid traceparent");
    assert.equal(sc.spanId, span.spanId);
  } finally {
    await up.stop();
  }
});

test("a Request input with a streamed body: the upstream call is not held back, the body is read bounded on the side", async () => {
  let entered = false;
  let enteredBeforeBodyEnd: boolean | undefined;
  const up = startServer(async (req: Request) => {
    entered = true;
    const body = await req.text();
    return Response.json({ id: "c", model: "m", echo: body.length });
  });
  try {
    const p = parentSpan(t, "streamed-request-body");
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(enc.encode('{"model":"acme/stream-1",'));
        // Hold the rest until the upstream has the request (bounded): a
        // tracedFetch that buffered the whole body first would never get
        // there and time out here.
        const t0 = Date.now();
        while (!entered && Date.now() - t0 < 2000) await sleep(5);
        enteredBeforeBodyEnd = entered;
        c.enqueue(enc.encode('"messages":[]}'));
        c.close();
      },
    });
    const input = new Request(`${up.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" }, // no content-length
      body,
      duplex: "half",
    } as RequestInit);
    const res = await tracedFetch(input, undefined, { context: p.ctx });
    assert.equal((await res.json()).echo, 39);
    p.span.end();
    assert.equal(
      enteredBeforeBodyEnd,
      true,
      "upstream called before the body ended",
    );
    const [span] = await clientChildren(t, p.spanId);
    // read from the bounded clone once the body had passed
    assert.equal(span.attributes["gen_ai.request.model"], "acme/stream-1");
    assert.equal(span.name, "chat acme/stream-1");
  } finally {
    await up.stop();
  }
});

test("a Request input larger than maxBodyBytes without content-length is passed on whole and not parsed", async () => {
  const up = startUpstream();
  try {
    const p = parentSpan(t, "big-request-body");
    const big = JSON.stringify({ model: "acme/big", pad: "x".repeat(4096) });
    const input = new Request(`${up.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc.encode(big.slice(0, 1000)));
          c.enqueue(enc.encode(big.slice(1000)));
          c.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    const res = await tracedFetch(input, undefined, {
      context: p.ctx,
      maxBodyBytes: 1024,
    });
    await res.arrayBuffer();
    p.span.end();
    assert.equal(up.seen[0].body, big, "the upstream got the whole body");
    const [span] = await clientChildren(t, p.spanId);
    assert.equal(span.attributes["gen_ai.request.model"], undefined);
    assert.equal(span.name, "POST");
  } finally {
    await up.stop();
  }
});

test("the returned Response keeps url, redirected and type", async () => {
  const up = startUpstream();
  try {
    const p = parentSpan(t, "url");
    // JSON: the body is followed through a new Response
    const r1 = await tracedFetch(`${up.origin}/v1/chat/completions`, {
      method: "POST",
      body: CHAT_BODY,
    }, { context: p.ctx });
    assert.equal(r1.url, `${up.origin}/v1/chat/completions`);
    assert.equal(r1.redirected, false);
    const plain = await fetch(`${up.origin}/v1/chat/completions`, {
      method: "POST",
      body: CHAT_BODY,
    });
    await plain.arrayBuffer();
    assert.equal(r1.type, plain.type);
    await r1.json();
    // a redirect followed by fetch
    const r2 = await tracedFetch(`${up.origin}/redirect`, undefined, {
      context: p.ctx,
    });
    assert.equal(r2.status, 200);
    assert.equal(r2.url, `${up.origin}/final`);
    assert.equal(r2.redirected, true);
    assert.deepEqual(await r2.json(), { final: true });
    // not followed (text/plain): the upstream response itself
    const r3 = await tracedFetch(`${up.origin}/plain`, undefined, {
      context: p.ctx,
    });
    assert.equal(r3.url, `${up.origin}/plain`);
    await r3.text();
    p.span.end();
    const spans = await clientChildren(t, p.spanId, 3);
    const redirect = spans.find((s) =>
      s.attributes["url.full"] === `${up.origin}/redirect`
    );
    assert.ok(redirect);
    assert.equal(redirect.attributes["http.response.status_code"], 200);
  } finally {
    await up.stop();
  }
});
