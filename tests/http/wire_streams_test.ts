// How the SERVER and CLIENT spans of a router end for streams of the
// Responses, Messages and Gemini APIs: an `event: error`, `response.failed`
// or Gemini error object is an ERROR with its error.type; `response.incomplete`
// is a finish reason; a client that cancels after the terminal event ends
// normally, one that cancels before it does not; bad input (unknown events,
// non-JSON data, a truncated and a huge event, a wrong content type) passes
// through byte for byte with best-effort attributes. Also: the provider from
// the upstream's host, and the `api` option for paths that do not tell.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertCancelled } from "./server_support.ts";
import { forceFlush, tracedFetch, traceHandler } from "../../mod.ts";
import type { ReceivedSpan } from "../support/otlp_receiver.ts";
import { withServer } from "../support/servers.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";
import {
  GEMINI_JSON,
  geminiEvents,
  messagesEvents,
  responsesEvents,
  sseText,
  type WireEvent,
} from "../support/wire_apis.ts";
import { CLIENT, ERROR, SERVER, UNSET } from "./client_support.ts";

let t: Tracing;
useTracing("wire-streams-test", (ready) => (t = ready), {
  OTEL_METRICS_EXPORTER: "none",
});

const GEMINI_PATH = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";
const GEMINI_JSON_PATH = "/v1beta/models/gemini-2.5-flash:generateContent";

/** An upstream answering `body` (all at once, then open `lingerMs` more). */
function sseUpstream(
  body: string | Uint8Array,
  contentType = "text/event-stream",
  lingerMs = 0,
  status = 200,
) {
  const bytes = typeof body === "string"
    ? new TextEncoder().encode(body)
    : body;
  return () =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(bytes);
          if (lingerMs) await new Promise((r) => setTimeout(r, lingerMs));
          try {
            c.close();
          } catch {
            // cancelled meanwhile
          }
        },
      }),
      { status, headers: { "content-type": contentType } },
    );
}

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

async function spansOf(id: string): Promise<ReceivedSpan[]> {
  // The spans may end just after a flush (on a cancel the runtime reports
  // a moment later): flush until both have arrived.
  const mine = () =>
    t.receiver.spans().filter((s) => s.attributes["test.id"] === id);
  for (let i = 0; i < 200 && mine().length < 2; i++) {
    await forceFlush();
    await new Promise((r) => setTimeout(r, 20));
  }
  const spans = mine();
  assert.ok(spans.some((s) => s.kind === SERVER), "a SERVER span");
  assert.ok(spans.some((s) => s.kind === CLIENT), "a CLIENT span");
  return spans;
}

/** POSTs `path` through a router in front of `upstream`; the body's bytes. */
async function through(
  id: string,
  upstream: () => Response,
  path: string,
  read: (res: Response, abort: AbortController) => Promise<Uint8Array> = async (
    res,
  ) => new Uint8Array(await res.arrayBuffer()),
): Promise<{ spans: ReceivedSpan[]; bytes: Uint8Array }> {
  let out!: { spans: ReceivedSpan[]; bytes: Uint8Array };
  await withServer(upstream, async (up) => {
    await withServer(router(up.origin, id), async (r) => {
      const abort = new AbortController();
      const res = await fetch(`${r.origin}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", stream: true }),
        signal: abort.signal,
      });
      const bytes = await read(res, abort);
      out = { spans: await spansOf(id), bytes };
    });
  });
  return out;
}

const ERRORS: [string, string, WireEvent[], string][] = [
  [
    "messages-error",
    "/v1/messages",
    messagesEvents("error"),
    "overloaded_error",
  ],
  [
    "responses-failed",
    "/v1/responses",
    responsesEvents("failed"),
    "server_error",
  ],
  [
    "responses-error",
    "/v1/responses",
    responsesEvents("error"),
    "ERR_SOMETHING",
  ],
  ["gemini-error", GEMINI_PATH, geminiEvents("error"), "INTERNAL"],
];
for (const [id, path, events, type] of ERRORS) {
  test(`${id}: a stream that reports an error is an ERROR with error.type ${type}`, async () => {
    const { spans } = await through(id, sseUpstream(sseText(events)), path);
    for (const s of spans) {
      assert.equal(s.status.code, ERROR, s.name);
      assert.equal(s.attributes["error.type"], type, s.name);
      assert.equal(s.attributes["http.response.status_code"], 200, s.name);
    }
  });
}

test("an error event under an error status: the status stays the error's type", async () => {
  const { spans } = await through(
    "status-and-event",
    sseUpstream(sseText(messagesEvents("error")), "text/event-stream", 0, 529),
    "/v1/messages",
  );
  for (const s of spans) {
    assert.equal(s.status.code, ERROR, s.name);
    assert.equal(s.attributes["error.type"], "529", s.name);
  }
});

test("JSON answers that report a failure in a 200 (a failed Response, a Gemini error object) are errors", async () => {
  const cases: [string, string, unknown, string][] = [
    ["json-failed", "/v1/responses", {
      id: "resp_1",
      object: "response",
      status: "failed",
      error: { code: "server_error", message: "x" },
      output: [],
    }, "server_error"],
    [
      "json-gemini-error",
      GEMINI_JSON_PATH,
      { error: { code: 500, message: "x", status: "INTERNAL" } },
      "INTERNAL",
    ],
    ["json-gemini-ok", GEMINI_JSON_PATH, GEMINI_JSON, ""],
  ];
  for (const [id, path, body, type] of cases) {
    const { spans } = await through(id, () => Response.json(body), path);
    for (const s of spans) {
      assert.equal(s.status.code, type ? ERROR : UNSET, `${id} ${s.name}`);
      assert.equal(s.attributes["error.type"], type || undefined, id);
    }
  }
});

test("responses-incomplete: response.incomplete is a finish reason, not an error", async () => {
  const { spans } = await through(
    "responses-incomplete",
    sseUpstream(sseText(responsesEvents("incomplete"))),
    "/v1/responses",
  );
  for (const s of spans) {
    assert.equal(s.status.code, UNSET, s.status.message);
    assert.equal(s.attributes["error.type"], undefined);
    assert.deepEqual(s.attributes["gen_ai.response.finish_reasons"], [
      "length",
    ]);
  }
});

/**
 * Reads until `marker` has passed, then goes away (aborts: the connection
 * closes, as when a user closes the tab, so the router sees the cancel).
 */
function readUntil(marker: string) {
  return async (res: Response, abort: AbortController): Promise<Uint8Array> => {
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = "";
    for (let i = 0; i < 1000 && !text.includes(marker); i++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
    abort.abort();
    await reader.cancel().catch(() => {});
    return new TextEncoder().encode(text);
  };
}

/** The upstream keeps the body open this long after its last event. */
const LINGER_MS = 3000;

/** The span ended on the cancel, long before the upstream's body would have. */
function endedEarly(s: ReceivedSpan): void {
  const ms = Number(s.endTimeUnixNano - s.startTimeUnixNano) / 1e6;
  assert.ok(ms < LINGER_MS - 1000, `${s.name} ended after ${ms} ms`);
}

const TERMINAL: [string, string, WireEvent[], string][] = [
  ["messages-stop", "/v1/messages", messagesEvents(), "message_stop"],
  [
    "responses-completed",
    "/v1/responses",
    responsesEvents(),
    "response.completed",
  ],
  ["gemini-finish", GEMINI_PATH, geminiEvents(), "MAX_TOKENS"],
];
for (const [id, path, events, marker] of TERMINAL) {
  test(`${id}: a client that cancels after the terminal event ends normally`, async () => {
    const { spans } = await through(
      id,
      sseUpstream(sseText(events), "text/event-stream", LINGER_MS),
      path,
      readUntil(marker),
    );
    for (const s of spans) {
      endedEarly(s);
      assert.equal(s.status.code, UNSET, `${s.name}: ${s.status.message}`);
      assert.equal(s.attributes["error.type"], undefined, s.name);
      assert.ok(s.attributes["gen_ai.response.finish_reasons"], s.name);
    }
  });
}

test("messages-gave-up: a client that cancels before message_stop is cancelled, not failed", async () => {
  const events = messagesEvents().slice(0, 4);
  const { spans } = await through(
    "messages-gave-up",
    sseUpstream(sseText(events), "text/event-stream", LINGER_MS),
    "/v1/messages",
    readUntil("text_delta"),
  );
  for (const s of spans) {
    endedEarly(s);
    // No message_delta came: the stop reason expected is reported as error.
    assertCancelled(s);
  }
});

test("bad input: unknown events, non-JSON data, a huge and a truncated event pass byte for byte; what can be read is", async () => {
  const huge = "y".repeat(1_500_000);
  const events: WireEvent[] = [
    messagesEvents()[0],
    ["mystery", { type: "mystery", delta: { type: "text_delta" } }],
    ["content_block_delta", "{not json"],
    [
      "content_block_delta",
      `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${huge}"}}`,
    ],
    ...messagesEvents().slice(3),
  ];
  const body = sseText(events) + 'event: message_delta\ndata: {"type":"mess';
  const sent = new TextEncoder().encode(body);
  const { spans, bytes } = await through(
    "bad-input",
    sseUpstream(sent),
    "/v1/messages",
  );
  assert.equal(bytes.length, sent.length);
  assert.deepEqual(bytes, sent, "the stream passed through unchanged");
  for (const s of spans) {
    assert.equal(s.status.code, UNSET, s.status.message);
    assert.equal(
      s.attributes["gen_ai.response.id"],
      "msg_013nnniYDrJDocdy5nrMU7cH",
    );
    assert.deepEqual(s.attributes["gen_ai.response.finish_reasons"], [
      "end_turn",
    ]);
    assert.equal(s.attributes["gen_ai.usage.output_tokens"], 10);
    assert.equal(s.attributes["http.response.body.size"], sent.length);
  }
});

test("bad input: a wrong content type is passed on untouched, without stream attributes", async () => {
  const sent = new TextEncoder().encode(sseText(messagesEvents()));
  const { spans, bytes } = await through(
    "wrong-type",
    sseUpstream(sent, "text/plain"),
    "/v1/messages",
  );
  assert.deepEqual(bytes, sent);
  for (const s of spans) {
    assert.equal(s.status.code, UNSET);
    assert.equal(s.attributes["gen_ai.operation.name"], "chat");
    assert.equal(s.attributes["gen_ai.response.id"], undefined);
  }
  const json = await through(
    "json-as-sse",
    sseUpstream('{"id":"msg_1","type":"message"}', "text/event-stream"),
    "/v1/messages",
  );
  for (const s of json.spans) {
    assert.equal(s.status.code, UNSET);
    assert.equal(s.attributes["llmtrace.response.chunks"], 0);
  }
});

test("gen_ai.provider.name from the upstream's host, else the wire API's; providerName wins", async () => {
  const seen: string[] = [];
  const fake = (input: string | URL | Request) => {
    seen.push(String(input instanceof Request ? input.url : input));
    return Promise.resolve(Response.json({}));
  };
  const cases: [string, string | undefined, string][] = [
    ["https://api.anthropic.com/v1/messages", undefined, "anthropic"],
    ["https://proxy.example/v1/messages", undefined, "anthropic"],
    [
      "https://generativelanguage.googleapis.com/v1beta/models/g:generateContent",
      undefined,
      "gcp.gemini",
    ],
    [
      "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/l/publishers/google/models/g:generateContent",
      undefined,
      "gcp.vertex_ai",
    ],
    [
      "https://proxy.example/v1/models/g:streamGenerateContent?alt=sse",
      undefined,
      "gcp.gemini",
    ],
    [
      "https://myres.openai.azure.com/openai/v1/responses",
      undefined,
      "azure.ai.openai",
    ],
    ["https://proxy.example/v1/responses", undefined, "openai"],
    ["https://api.anthropic.com/v1/messages", "vllm", "vllm"],
  ];
  for (const [url, providerName, _] of cases) {
    await tracedFetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    }, {
      fetch: fake as typeof fetch,
      providerName,
      attributes: { "test.case": `host ${url} ${providerName}` },
    }).then((r) => r.text());
  }
  assert.equal(seen.length, cases.length);
  await forceFlush();
  const spans = await t.receiver.waitForSpans((all) =>
    all.filter((s) => String(s.attributes["test.case"]).startsWith("host "))
      .length >= cases.length
  );
  for (const [url, providerName, provider] of cases) {
    const s = spans.find((s) =>
      s.attributes["test.case"] === `host ${url} ${providerName}`
    )!;
    assert.equal(s.attributes["gen_ai.provider.name"], provider, url);
  }
});

test("the api option reads a path that does not tell: traceHandler and tracedFetch", async () => {
  const id = "api-option";
  const upstream = sseUpstream(sseText(geminiEvents()));
  await withServer(upstream, async (up) => {
    const handler = traceHandler(
      async (req: Request) =>
        await tracedFetch(`${up.origin}/gemini-proxy`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: await req.text(),
        }, { request: req, api: "gemini", attributes: { "test.id": id } }),
      {
        api: "anthropic",
        attributes: { "test.id": id },
      },
    );
    await withServer(handler, async (r) => {
      const res = await fetch(`${r.origin}/claude`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-x", max_tokens: 5 }),
      });
      await res.arrayBuffer();
      const spans = await spansOf(id);
      for (const s of spans) {
        assert.equal(s.attributes["gen_ai.response.model"], "gemini-2.5-flash");
        assert.deepEqual(s.attributes["gen_ai.response.finish_reasons"], [
          "MAX_TOKENS",
        ]);
      }
      const server = spans.find((s) => s.kind === SERVER)!;
      const client = spans.find((s) => s.kind === CLIENT)!;
      assert.equal(server.attributes["gen_ai.operation.name"], "chat");
      assert.equal(server.attributes["gen_ai.request.model"], "claude-x");
      assert.equal(server.attributes["gen_ai.request.max_tokens"], 5);
      assert.equal(
        client.attributes["gen_ai.operation.name"],
        "generate_content",
      );
      assert.equal(client.attributes["gen_ai.provider.name"], "gcp.gemini");
    });
  });
  assert.throws(
    () => traceHandler(() => new Response(), { api: "claude" as "anthropic" }),
    /options\.api must be one of "openai", "openai_responses", "anthropic", "gemini", got "claude"/,
  );
});
