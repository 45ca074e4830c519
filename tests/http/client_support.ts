/**
 * Shared by the tracedFetch tests of this folder (client_test.ts,
 * client_errors_test.ts, client_stream_test.ts, upstream_test.ts): an
 * upstream that records what it received and answers by path, parent spans
 * with unique names, and polling the receiver for their CLIENT children.
 *
 * @module
 */
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { forceFlush } from "../../mod.ts";
import type { ReceivedSpan } from "../support/otlp_receiver.ts";
import type { Tracing } from "../support/tracing.ts";
import { sleep } from "../support/helpers.ts";
import { startServer, type TestServer } from "../support/servers.ts";

/** OTLP SPAN_KIND_SERVER */
export const SERVER = 2;
/** OTLP SPAN_KIND_CLIENT */
export const CLIENT = 3;
/** OTLP STATUS_CODE_ERROR */
export const ERROR = 2;
/** OTLP STATUS_CODE_UNSET */
export const UNSET = 0;

export const enc: TextEncoder = new TextEncoder();
/** Wall clock in epoch nanoseconds, on the clock llmtrace's spans use. */
export const nowNanos = (): bigint =>
  BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

/** A parent span whose context parents the calls of one test. */
export interface Parent {
  span: ReturnType<Tracing["tracer"]["startSpan"]>;
  ctx: ReturnType<typeof trace.setSpan>;
  name: string;
  spanId: string;
}

let seq = 0;
/** A parent span with a unique name; its context parents the calls. */
export function parentSpan(t: Tracing, label: string): Parent {
  const name = `fetch-test parent ${label} ${++seq}`;
  const span = t.tracer.startSpan(name, {}, ROOT_CONTEXT);
  const ctx = trace.setSpan(ROOT_CONTEXT, span);
  return { span, ctx, name, spanId: span.spanContext().spanId };
}

/** Flushes, then waits (bounded) for `n` CLIENT children of `parentId`. */
export async function clientChildren(
  t: Tracing,
  parentId: string,
  n = 1,
): Promise<ReceivedSpan[]> {
  await forceFlush();
  const spans = await t.receiver.waitForSpans(
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

/** One request as the upstream received it. */
export interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

/** The upstream of {@link startUpstream}. Always `stop()` it. */
export type Upstream = TestServer & {
  seen: Seen[];
  state: { cancelled: boolean; hits: number };
};

/** An upstream that records what it received and answers by path. */
export function startUpstream(): Upstream {
  const seen: Seen[] = [];
  const state = { cancelled: false, hits: 0 };
  const server = startServer(async (req: Request) => {
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

/** A non-streamed chat completion request body. */
export const CHAT_BODY: string = JSON.stringify({
  model: "acme/llm-1",
  messages: [{ role: "user", content: "hi" }],
  max_tokens: 32,
  temperature: 0.25,
  top_p: 0.5,
  stream: false,
});
