// tracedFetch against real upstream servers (Deno.serve / Bun.serve on
// loopback), spans checked as a real OTLP/HTTP receiver decoded them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ROOT_CONTEXT, trace, type Tracer } from "@opentelemetry/api";
import {
  forceFlush,
  parseTraceparent,
  tracedFetch,
  traceHandler,
} from "../mod.ts";
import type { OtlpReceiver, ReceivedSpan } from "./support/otlp_receiver.ts";
import { useTracing } from "./support/tracing.ts";
import { deadPort, type RunningServer, serve } from "../examples/serve.ts";

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;
const UNSET = 0;

let receiver: OtlpReceiver;
let tracer: Tracer;

useTracing("fetch-test", (t) => {
  receiver = t.receiver;
  tracer = t.tracer;
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const enc = new TextEncoder();
/** Wall clock in epoch nanoseconds, on the clock llmtrace's spans use. */
const nowNanos = () =>
  BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

let seq = 0;
/** A parent span with a unique name; its context parents the calls. */
function parentSpan(label: string) {
  const name = `fetch-test parent ${label} ${++seq}`;
  const span = tracer.startSpan(name, {}, ROOT_CONTEXT);
  const ctx = trace.setSpan(ROOT_CONTEXT, span);
  return { span, ctx, name, spanId: span.spanContext().spanId };
}

/** Flushes, then waits (bounded) for `n` CLIENT children of `parentId`. */
async function clientChildren(
  parentId: string,
  n = 1,
): Promise<ReceivedSpan[]> {
  await forceFlush();
  const spans = await receiver.waitForSpans(
    (all) =>
      all.filter((s) => s.parentSpanId === parentId && s.kind === CLIENT)
        .length >= n,
    { timeoutMs: 10_000, message: `${n} client span(s) under ${parentId}` },
  );
  return spans.filter((s) => s.parentSpanId === parentId && s.kind === CLIENT)
    .sort((a, b) =>
      a.startTimeUnixNano < b.startTimeUnixNano
        ? -1
        : a.startTimeUnixNano > b.startTimeUnixNano
        ? 1
        : 0
    );
}

interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

/** An upstream that records what it received and answers by path. */
async function startUpstream(): Promise<
  RunningServer & { seen: Seen[]; state: { cancelled: boolean; hits: number } }
> {
  const seen: Seen[] = [];
  const state = { cancelled: false, hits: 0 };
  const server = await serve(async (req: Request) => {
    const url = new URL(req.url);
    const body = await req.text();
    seen.push({
      method: req.method,
      path: url.pathname + url.search,
      headers: new Headers(req.headers),
      body,
    });
    switch (url.pathname) {
      case "/v1/chat/completions": {
        const model = (JSON.parse(body) as { model?: string }).model;
        return Response.json({
          id: "chatcmpl-up-1",
          object: "chat.completion",
          model: `${model}-served`,
          choices: [{
            index: 0,
            message: { role: "assistant", content: "hello" },
            finish_reason: "stop",
          }],
          usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
        });
      }
      case "/v1/stream": {
        // SSE: a role chunk at once, the first content after 80 ms, then two
        // more content chunks 60 ms apart, usage, [DONE].
        const frames: [number, unknown][] = [
          [0, { choices: [{ index: 0, delta: { role: "assistant" } }] }],
          [80, { choices: [{ index: 0, delta: { content: "a" } }] }],
          [60, { choices: [{ index: 0, delta: { content: "b" } }] }],
          [60, {
            choices: [{
              index: 0,
              delta: { content: "c" },
              finish_reason: "stop",
            }],
          }],
          [0, {
            choices: [],
            usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
          }],
        ];
        let i = 0;
        return new Response(
          new ReadableStream<Uint8Array>({
            async pull(c) {
              if (i < frames.length) {
                const [delay, data] = frames[i++];
                if (delay) await sleep(delay);
                c.enqueue(enc.encode(`data: ${JSON.stringify(data)}\n\n`));
                return;
              }
              c.enqueue(enc.encode("data: [DONE]\n\n"));
              c.close();
            },
          }, { highWaterMark: 0 }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      case "/v1/endless": {
        // Streams until cancelled (bounded: at most 500 chunks of 20 ms).
        let n = 0;
        return new Response(
          new ReadableStream<Uint8Array>({
            async pull(c) {
              if (n++ >= 500) {
                c.close();
                return;
              }
              await sleep(20);
              c.enqueue(
                enc.encode(
                  `data: ${
                    JSON.stringify({
                      choices: [{ index: 0, delta: { content: `t${n}` } }],
                    })
                  }\n\n`,
                ),
              );
            },
            cancel() {
              state.cancelled = true;
            },
          }, { highWaterMark: 0 }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      case "/unavailable":
        return Response.json({ error: "overloaded" }, { status: 503 });
      case "/flaky":
        // 503 on the first hit, 200 afterwards.
        return state.hits++ === 0
          ? Response.json({ error: "try again" }, { status: 503 })
          : Response.json({ ok: true });
      case "/redirect":
        return new Response(null, {
          status: 302,
          headers: { location: "/final" },
        });
      case "/final":
        return Response.json({ final: true });
      default:
        return new Response(`plain ${req.method}`, {
          headers: { "content-type": "text/plain" },
        });
    }
  });
  return Object.assign(server, { seen, state });
}

const CHAT_BODY = JSON.stringify({
  model: "acme/llm-1",
  messages: [{ role: "user", content: "hi" }],
  max_tokens: 32,
  temperature: 0.25,
  top_p: 0.5,
  stream: false,
});

test("a chat completion: CLIENT span 'chat {model}' with HTTP and GenAI attributes, child of { context }", async () => {
  const up = await startUpstream();
  try {
    const p = parentSpan("chat");
    const res = await tracedFetch(
      `${up.url}/v1/chat/completions?api-version=2024&key=secret`,
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

    const [span] = await clientChildren(p.spanId);
    assert.equal(span.name, "chat acme/llm-1");
    assert.equal(span.kind, CLIENT);
    assert.equal(span.traceId, p.span.spanContext().traceId);
    assert.equal(span.status.code, UNSET);
    const a = span.attributes;
    assert.equal(a["http.request.method"], "POST");
    assert.equal(a["server.address"], "127.0.0.1");
    assert.equal(a["server.port"], up.port);
    assert.equal(span.attributeTypes["server.port"], "int");
    assert.equal(a["url.full"], `${up.url}/v1/chat/completions`);
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
    await up.close();
  }
});

test("not a GenAI call: the span is named after the method", async () => {
  const up = await startUpstream();
  try {
    const p = parentSpan("methods");
    const r1 = await tracedFetch(`${up.url}/health`, undefined, {
      context: p.ctx,
    });
    assert.equal(await r1.text(), "plain GET");
    const r2 = await tracedFetch(`${up.url}/things`, {
      method: "put",
      body: "x",
    }, { context: p.ctx });
    assert.equal(await r2.text(), "plain PUT");
    // a chat path whose body names no model is not "chat …" either
    const r3 = await tracedFetch(`${up.url}/other`, {
      method: "POST",
      body: "{}",
    }, { context: p.ctx });
    await r3.text();
    p.span.end();
    const spans = await clientChildren(p.spanId, 3);
    assert.deepEqual(spans.map((s) => s.name), ["GET", "PUT", "POST"]);
    assert.deepEqual(spans.map((s) => s.attributes["http.request.method"]), [
      "GET",
      "PUT",
      "POST",
    ]);
    assert.equal(spans[0].attributes["url.full"], `${up.url}/health`);
    assert.equal(spans[0].attributes["gen_ai.operation.name"], undefined);
  } finally {
    await up.close();
  }
});

test("a Request input: named from its body, caller's Request and headers left untouched", async () => {
  const up = await startUpstream();
  try {
    const p = parentSpan("request-input");
    const input = new Request(`${up.url}/v1/chat/completions`, {
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

    const [span] = await clientChildren(p.spanId);
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
    await up.close();
  }
});

test("a Request input with a streamed body: the upstream call is not held back, the body is read bounded on the side", async () => {
  let entered = false;
  let enteredBeforeBodyEnd: boolean | undefined;
  const up = await serve(async (req: Request) => {
    entered = true;
    const body = await req.text();
    return Response.json({ id: "c", model: "m", echo: body.length });
  });
  try {
    const p = parentSpan("streamed-request-body");
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
    const input = new Request(`${up.url}/v1/chat/completions`, {
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
    const [span] = await clientChildren(p.spanId);
    // read from the bounded clone once the body had passed
    assert.equal(span.attributes["gen_ai.request.model"], "acme/stream-1");
    assert.equal(span.name, "chat acme/stream-1");
  } finally {
    await up.close();
  }
});

test("a Request input larger than maxBodyBytes without content-length is passed on whole and not parsed", async () => {
  const up = await startUpstream();
  try {
    const p = parentSpan("big-request-body");
    const big = JSON.stringify({ model: "acme/big", pad: "x".repeat(4096) });
    const input = new Request(`${up.url}/v1/chat/completions`, {
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
    const [span] = await clientChildren(p.spanId);
    assert.equal(span.attributes["gen_ai.request.model"], undefined);
    assert.equal(span.name, "POST");
  } finally {
    await up.close();
  }
});

test("traceparent: the CLIENT span's id under the strict grammar; the caller's Headers and init are not mutated", async () => {
  const up = await startUpstream();
  try {
    const p = parentSpan("traceparent");
    const headers = new Headers({
      "content-type": "application/json",
      "x-request-id": "abc",
      // a stale traceparent of the caller's is replaced on the wire only
      traceparent: "00-11111111111111111111111111111111-2222222222222222-01",
    });
    const init: RequestInit = { method: "POST", headers, body: CHAT_BODY };
    const beforeHeaders = [...headers];
    const beforeInit = Object.keys(init);
    const res = await tracedFetch(`${up.url}/v1/chat/completions`, init, {
      context: p.ctx,
    });
    await res.json();
    p.span.end();

    assert.deepEqual([...headers], beforeHeaders);
    assert.deepEqual(Object.keys(init), beforeInit);
    assert.equal(init.headers, headers);
    assert.equal(init.signal, undefined);

    const [span] = await clientChildren(p.spanId);
    const tp = up.seen[0].headers.get("traceparent");
    assert.ok(tp, "traceparent sent");
    assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/);
    const sc = parseTraceparent(tp);
    assert.ok(sc, `strict parse of ${tp}`);
    assert.equal(sc.traceId, p.span.spanContext().traceId);
    assert.equal(sc.traceId, span.traceId);
    assert.equal(sc.spanId, span.spanId);
    assert.notEqual(sc.spanId, p.spanId);
    assert.equal(sc.traceFlags, 0x03, "sampled, random trace id");
    assert.equal(up.seen[0].headers.get("x-request-id"), "abc");
  } finally {
    await up.close();
  }
});

test("{ request } under traceHandler: the CLIENT span is a child of the SERVER span", async () => {
  const up = await startUpstream();
  const router = await serve(traceHandler(async (req: Request) => {
    return await tracedFetch(`${up.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: await req.text(),
    }, { request: req });
  }, { route: "/route-under-test" }));
  try {
    const res = await fetch(`${router.url}/v1/chat/completions`, {
      method: "POST",
      body: CHAT_BODY,
      headers: { "content-type": "application/json" },
    });
    assert.equal(res.status, 200);
    await res.json();
    await forceFlush();
    const spans = await receiver.waitForSpans((all) => {
      const srv = all.find((s) => s.name === "POST /route-under-test");
      return !!srv && all.some((s) => s.parentSpanId === srv.spanId);
    });
    const server = spans.find((s) => s.name === "POST /route-under-test")!;
    const client = spans.find((s) => s.parentSpanId === server.spanId)!;
    assert.equal(server.kind, SERVER);
    assert.equal(client.kind, CLIENT);
    assert.equal(client.name, "chat acme/llm-1");
    assert.equal(client.traceId, server.traceId);
    assert.ok(client.startTimeUnixNano >= server.startTimeUnixNano);
    assert.ok(client.endTimeUnixNano <= server.endTimeUnixNano);
    const sc = parseTraceparent(up.seen[0].headers.get("traceparent"));
    assert.equal(sc?.spanId, client.spanId);
  } finally {
    await router.close();
    await up.close();
  }
});

test("propagateTo: an origin list or a function that excludes the upstream sends no traceparent", async () => {
  const up = await startUpstream();
  try {
    const p = parentSpan("propagateTo");
    const calls: {
      label: string;
      propagateTo: string[] | ((u: string) => boolean);
    }[] = [
      { label: "other origin", propagateTo: ["https://api.example.com"] },
      // same host, other port: not the same origin
      { label: "other port", propagateTo: [`http://127.0.0.1:${up.port + 1}`] },
      { label: "function no", propagateTo: (u) => !u.startsWith(up.url) },
      { label: "function yes", propagateTo: (u) => u.startsWith(up.url) },
      { label: "list yes", propagateTo: [up.url] },
    ];
    const seenUrls: string[] = [];
    for (const c of calls) {
      const rule = typeof c.propagateTo === "function"
        ? (u: string) => {
          seenUrls.push(u);
          return (c.propagateTo as (u: string) => boolean)(u);
        }
        : c.propagateTo;
      const res = await tracedFetch(
        `${up.url}/plain?c=${c.label.replace(" ", "-")}`,
        {
          headers: { "x-label": c.label },
        },
        { context: p.ctx, propagateTo: rule },
      );
      await res.text();
    }
    p.span.end();
    const got = Object.fromEntries(
      up.seen.map((s) => [s.headers.get("x-label"), s.headers]),
    );
    assert.equal(got["other origin"].get("traceparent"), null);
    assert.equal(got["other port"].get("traceparent"), null);
    assert.equal(got["function no"].get("traceparent"), null);
    assert.ok(parseTraceparent(got["function yes"].get("traceparent")));
    assert.ok(parseTraceparent(got["list yes"].get("traceparent")));
    // the function sees the full URL
    assert.deepEqual(seenUrls, [
      `${up.url}/plain?c=function-no`,
      `${up.url}/plain?c=function-yes`,
    ]);
    // the spans exist either way
    const spans = await clientChildren(p.spanId, 5);
    assert.equal(spans.length, 5);
  } finally {
    await up.close();
  }
});

test("a streamed answer: the span ends after the last chunk, time to first token measured", async () => {
  const up = await startUpstream();
  try {
    const p = parentSpan("stream");
    const started = nowNanos();
    const res = await tracedFetch(`${up.url}/v1/stream`, {
      method: "POST",
      body: "{}",
    }, { context: p.ctx });
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = "";
    let lastChunkAt = 0n;
    for (let i = 0; i < 100; i++) {
      const r = await reader.read();
      if (r.done) break;
      lastChunkAt = nowNanos();
      text += dec.decode(r.value, { stream: true });
    }
    assert.ok(text.endsWith("data: [DONE]\n\n"), text);
    p.span.end();

    const [span] = await clientChildren(p.spanId);
    assert.equal(span.name, "POST");
    // ended after the last chunk was handed on (1 ms clock slack), and it
    // lasted the upstream's 200 ms of pauses
    assert.ok(
      span.endTimeUnixNano >= lastChunkAt - 1_000_000n,
      `span end ${span.endTimeUnixNano} < last chunk ${lastChunkAt}`,
    );
    assert.ok(span.startTimeUnixNano >= started - 1_000_000n);
    const durMs = Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6;
    assert.ok(durMs >= 190, `span lasted ${durMs} ms`);
    const ttft = span.attributes["gen_ai.response.time_to_first_chunk"];
    assert.equal(typeof ttft, "number");
    // the first content chunk came 80 ms in; the role-only chunk does not count
    assert.ok((ttft as number) >= 0.075, `ttft ${ttft}`);
    assert.ok(
      (ttft as number) * 1000 < durMs - 100,
      `ttft ${ttft} vs ${durMs}`,
    );
    assert.equal(
      span.attributes["gen_ai.latency.time_to_first_token"],
      ttft,
    );
    assert.equal(span.attributes["gen_ai.usage.output_tokens"], 3);
    assert.equal(span.attributes["gen_ai.usage.input_tokens"], 5);
    assert.deepEqual(span.attributes["gen_ai.response.finish_reasons"], [
      "stop",
    ]);
    assert.equal(span.status.code, UNSET);
  } finally {
    await up.close();
  }
});

test("a downstream cancel of the returned body cancels the upstream stream", async () => {
  const up = await startUpstream();
  try {
    const p = parentSpan("cancel");
    const res = await tracedFetch(`${up.url}/v1/endless`, {
      method: "POST",
      body: "{}",
    }, { context: p.ctx });
    const reader = res.body!.getReader();
    for (let i = 0; i < 2; i++) {
      const r = await reader.read();
      assert.equal(r.done, false);
    }
    assert.equal(up.state.cancelled, false);
    await reader.cancel(new Error("downstream went away"));
    const deadline = Date.now() + 5_000;
    while (!up.state.cancelled && Date.now() < deadline) await sleep(20);
    assert.equal(
      up.state.cancelled,
      true,
      "the upstream stream's cancel() ran within 5 s",
    );
    p.span.end();
    const [span] = await clientChildren(p.spanId);
    assert.equal(span.attributes["error.type"], "cancelled");
    assert.equal(span.status.code, ERROR);
    const ttft = span.attributes["gen_ai.response.time_to_first_chunk"];
    assert.equal(typeof ttft, "number");
  } finally {
    await up.close();
  }
});

test("connection refused: the fetch error is re-thrown as is; span has error.type and ERROR", async () => {
  const port = await deadPort();
  const p = parentSpan("refused");
  let thrown: unknown;
  const spy: typeof fetch = async (input, init) => {
    try {
      return await fetch(input, init);
    } catch (e) {
      thrown = e;
      throw e;
    }
  };
  await assert.rejects(
    tracedFetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: "POST",
      body: CHAT_BODY,
    }, { context: p.ctx, fetch: spy }),
    (e: unknown) => {
      assert.ok(thrown !== undefined, "the real fetch failed");
      assert.equal(e, thrown, "the very same error object");
      return true;
    },
  );
  p.span.end();
  const [span] = await clientChildren(p.spanId);
  const err = thrown as Error;
  assert.equal(span.name, "chat acme/llm-1");
  assert.equal(span.status.code, ERROR);
  assert.equal(span.status.message, err.message);
  assert.equal(span.attributes["error.type"], err.name || "Error");
  assert.equal(typeof span.attributes["error.type"], "string");
  assert.equal(span.attributes["http.response.status_code"], undefined);
  assert.equal(span.attributes["server.port"], port);
  const ev = span.events.find((e) => e.name === "exception");
  assert.ok(ev, "an exception event");
  assert.equal(ev.attributes["exception.message"], err.message);
});

test("an upstream 503: ERROR status, error.type '503', the response is returned", async () => {
  const up = await startUpstream();
  try {
    const p = parentSpan("503");
    const res = await tracedFetch(`${up.url}/unavailable`, undefined, {
      context: p.ctx,
    });
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { error: "overloaded" });
    p.span.end();
    const [span] = await clientChildren(p.spanId);
    assert.equal(span.status.code, ERROR);
    assert.equal(span.attributes["error.type"], "503");
    assert.equal(span.attributes["http.response.status_code"], 503);
  } finally {
    await up.close();
  }
});

test("retries: two attempts are two CLIENT spans, the second with http.request.resend_count 1", async () => {
  const up = await startUpstream();
  try {
    const p = parentSpan("retry");
    let res: Response | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      res = await tracedFetch(
        `${up.url}/flaky`,
        { method: "POST", body: "1" },
        {
          context: p.ctx,
          attempt,
        },
      );
      if (res.status < 500) break;
      await res.body?.cancel();
    }
    assert.equal(res!.status, 200);
    assert.deepEqual(await res!.json(), { ok: true });
    p.span.end();
    const spans = await clientChildren(p.spanId, 2);
    assert.equal(spans.length, 2);
    const [first, second] = spans;
    assert.equal(first.attributes["http.request.resend_count"], undefined);
    assert.equal(first.attributes["error.type"], "503");
    assert.equal(first.status.code, ERROR);
    assert.equal(second.attributes["http.request.resend_count"], 1);
    assert.equal(second.attributeTypes["http.request.resend_count"], "int");
    assert.equal(second.attributes["http.response.status_code"], 200);
    assert.equal(second.status.code, UNSET);
    assert.notEqual(first.spanId, second.spanId);
    // The first attempt's span ends with its (discarded) JSON body, read
    // through a clone: around the second attempt's start, before its end.
    assert.ok(first.startTimeUnixNano < second.startTimeUnixNano);
    assert.ok(first.endTimeUnixNano <= second.endTimeUnixNano);
    // each attempt carried its own span id upstream
    const ids = up.seen.map((s) =>
      parseTraceparent(s.headers.get("traceparent"))?.spanId
    );
    assert.deepEqual(ids, [first.spanId, second.spanId]);
  } finally {
    await up.close();
  }
});

test("the returned Response keeps url, redirected and type", async () => {
  const up = await startUpstream();
  try {
    const p = parentSpan("url");
    // JSON: the body is followed through a new Response
    const r1 = await tracedFetch(`${up.url}/v1/chat/completions`, {
      method: "POST",
      body: CHAT_BODY,
    }, { context: p.ctx });
    assert.equal(r1.url, `${up.url}/v1/chat/completions`);
    assert.equal(r1.redirected, false);
    const plain = await fetch(`${up.url}/v1/chat/completions`, {
      method: "POST",
      body: CHAT_BODY,
    });
    await plain.arrayBuffer();
    assert.equal(r1.type, plain.type);
    await r1.json();
    // a redirect followed by fetch
    const r2 = await tracedFetch(`${up.url}/redirect`, undefined, {
      context: p.ctx,
    });
    assert.equal(r2.status, 200);
    assert.equal(r2.url, `${up.url}/final`);
    assert.equal(r2.redirected, true);
    assert.deepEqual(await r2.json(), { final: true });
    // not followed (text/plain): the upstream response itself
    const r3 = await tracedFetch(`${up.url}/plain`, undefined, {
      context: p.ctx,
    });
    assert.equal(r3.url, `${up.url}/plain`);
    await r3.text();
    p.span.end();
    const spans = await clientChildren(p.spanId, 3);
    const redirect = spans.find((s) =>
      s.attributes["url.full"] === `${up.url}/redirect`
    );
    assert.ok(redirect);
    assert.equal(redirect.attributes["http.response.status_code"], 200);
  } finally {
    await up.close();
  }
});

test("a Request input's own abort signal still aborts the call, also with { request } (Bun's client-gone signal)", async () => {
  // An upstream that answers only after 3 s; `release()` answers at once
  // (a pending handler would hold up the server's shutdown).
  const pending = new Set<() => void>();
  const release = () => {
    for (const answer of [...pending]) answer();
  };
  const slow = await serve(() =>
    new Promise<Response>((resolve) => {
      const answer = () => {
        clearTimeout(t);
        pending.delete(answer);
        resolve(new Response("late"));
      };
      const t = setTimeout(answer, 3_000);
      pending.add(answer);
    })
  );
  const outcomes: { label: string; ms: number; error: string }[] = [];
  const router = await serve(traceHandler(async (req: Request) => {
    const label = new URL(req.url).pathname.slice(1);
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(new Error("caller gave up")), 100);
    const started = Date.now();
    try {
      const res = await tracedFetch(
        new Request(`${slow.url}/${label}`, { signal: ac.signal }),
        undefined,
        label === "with-request" ? { request: req } : {},
      );
      await res.text();
      outcomes.push({ label, ms: Date.now() - started, error: "" });
    } catch (e) {
      outcomes.push({
        label,
        ms: Date.now() - started,
        error: (e as Error).message,
      });
    } finally {
      clearTimeout(t);
    }
    return new Response("done");
  }, { route: "/abort-under-test" }));
  try {
    for (const label of ["no-request", "with-request"]) {
      const res = await fetch(`${router.url}/${label}`);
      assert.equal(await res.text(), "done");
    }
  } finally {
    release();
    await router.close();
    await slow.close();
  }
  assert.deepEqual(outcomes.map((o) => o.label), [
    "no-request",
    "with-request",
  ]);
  for (const o of outcomes) {
    assert.match(o.error, /caller gave up/, `${o.label}: ${JSON.stringify(o)}`);
    assert.ok(o.ms < 2_000, `${o.label} took ${o.ms} ms`);
  }
  await forceFlush();
  const spans = await receiver.waitForSpans((all) =>
    all.filter((s) =>
      s.kind === CLIENT &&
      /\/(no|with)-request$/.test(String(s.attributes["url.full"]))
    ).length >= 2
  );
  for (
    const s of spans.filter((s) =>
      s.kind === CLIENT &&
      /\/(no|with)-request$/.test(String(s.attributes["url.full"]))
    )
  ) {
    assert.equal(s.status.code, ERROR);
    assert.equal(typeof s.attributes["error.type"], "string");
  }
});
