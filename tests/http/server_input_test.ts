// Hostile request bodies through traceHandler (huge, streamed, binary,
// invalid UTF-8, wrong JSON types, NaN-like numbers, bodiless methods; a body
// already partially read): the handler gets every byte, the span records
// what it can. Each test builds its own provider; see
// tests/support/reliability.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { traceHandler } from "../../src/http/server.ts";
import {
  type ReceivedSpan,
  startOtlpReceiver,
} from "../support/otlp_receiver.ts";
import { concatBytes, sleep } from "../support/helpers.ts";
import { startServer, type TestServer } from "../support/servers.ts";
import { useReliabilityHooks, withTracing } from "../support/reliability.ts";

const unhandled = useReliabilityHooks();

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Echoes the bytes it received as a hash and a length (headers, for HEAD). */
async function echoHandler(req: Request): Promise<Response> {
  let bytes: Uint8Array;
  if (req.headers.get("x-partial") === "1") {
    const reader = req.body!.getReader();
    const parts: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    bytes = concatBytes(parts);
  } else bytes = new Uint8Array(await req.arrayBuffer());
  const headers = {
    "x-body-length": String(bytes.byteLength),
    "x-body-sha256": await sha256(bytes),
    "content-type": "application/json",
  };
  return new Response(
    req.method === "HEAD" ? null : JSON.stringify({ ok: true }),
    { headers },
  );
}

function streamOf(
  bytes: Uint8Array,
  chunk: number,
): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= bytes.byteLength) return c.close();
      c.enqueue(bytes.slice(off, off + chunk));
      off += chunk;
    },
  });
}

interface BadCase {
  name: string;
  method: string;
  path: string;
  contentType?: string;
  body?: Uint8Array;
  streamed?: boolean;
  check?: (span: ReceivedSpan) => void;
}

const enc = new TextEncoder();
const MAX_BODY = 4096;
const bigJson = enc.encode(
  JSON.stringify({
    model: "big",
    messages: [{ content: "y".repeat(200_000) }],
  }),
);

const BAD_CASES: BadCase[] = [
  {
    name: "huge",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: bigJson,
    check: (s) => {
      assert.equal(s.attributes["gen_ai.request.model"], undefined);
      assert.equal(s.attributes["gen_ai.operation.name"], "chat");
    },
  },
  {
    name: "huge_streamed",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: bigJson,
    streamed: true,
    check: (s) => assert.equal(s.attributes["gen_ai.request.model"], undefined),
  },
  {
    name: "binary_as_json",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: randomBytes(3000, 7),
  },
  {
    name: "binary_octets",
    method: "POST",
    path: "/v1/completions",
    contentType: "application/octet-stream",
    body: randomBytes(100_000, 11),
  },
  {
    name: "invalid_utf8",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: new Uint8Array([
      ...enc.encode('{"model":"m\xff'),
      0xff,
      0xfe,
      0xc3,
      0x28,
      ...enc.encode('","max_tokens":5}'),
    ]),
  },
  {
    name: "wrong_types",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: enc.encode(JSON.stringify({
      model: 42,
      max_tokens: "100",
      temperature: "NaN",
      top_p: [0.5],
      n: [1, 2],
      seed: 1.5,
      stream: "yes",
      stop: [1, "x", null],
      messages: "not a list",
    })),
    check: (s) => {
      const a = s.attributes;
      for (
        const k of [
          "gen_ai.request.model",
          "gen_ai.request.max_tokens",
          "gen_ai.request.temperature",
          "gen_ai.request.top_p",
          "gen_ai.request.choice.count",
          "gen_ai.request.seed",
          "gen_ai.request.stream",
        ]
      ) assert.equal(a[k], undefined, k);
      assert.deepEqual(a["gen_ai.request.stop_sequences"], ["x"]);
    },
  },
  {
    name: "nan_like",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: enc.encode('{"model":"m1","max_tokens":1e400,"temperature":-1e999}'),
    check: (s) => {
      assert.equal(s.attributes["gen_ai.request.model"], "m1");
      assert.equal(s.attributes["gen_ai.request.max_tokens"], undefined);
      assert.equal(s.attributes["gen_ai.request.temperature"], undefined);
    },
  },
  {
    name: "nan_literal",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: enc.encode('{"model":"m2","temperature":NaN}'),
    check: (s) => assert.equal(s.attributes["gen_ai.request.model"], undefined),
  },
  {
    name: "json_array",
    method: "POST",
    path: "/v1/embeddings",
    contentType: "application/json",
    body: enc.encode("[1,2,3]"),
  },
  {
    name: "empty_post",
    method: "POST",
    path: "/v1/chat/completions",
    contentType: "application/json",
    body: new Uint8Array(0),
  },
  {
    name: "unknown_path",
    method: "POST",
    path: "/v1/unknown/thing",
    contentType: "application/json",
    body: enc.encode('{"model":"m3"}'),
    check: (s) => {
      assert.equal(s.attributes["gen_ai.operation.name"], undefined);
      assert.equal(s.attributes["url.path"], "/v1/unknown/thing");
    },
  },
  { name: "get", method: "GET", path: "/v1/chat/completions" },
  { name: "head", method: "HEAD", path: "/v1/chat/completions" },
  { name: "options", method: "OPTIONS", path: "/v1/chat/completions" },
];

test("traceHandler hands hostile request bodies to the handler byte for byte, and the span records what it can", async () => {
  const rx = await startOtlpReceiver();
  let server: TestServer | undefined;
  try {
    await withTracing("test.reliability.bad_input", rx.url, {
      OTEL_BSP_SCHEDULE_DELAY: "50",
    }, async () => {
      const srv = server = startServer(traceHandler(echoHandler, {
        maxBodyBytes: MAX_BODY,
        captureHeaders: ["x-case"],
      }));
      for (const c of BAD_CASES) {
        const init: RequestInit & { duplex?: string } = {
          method: c.method,
          headers: {
            "x-case": c.name,
            ...(c.contentType ? { "content-type": c.contentType } : {}),
          },
        };
        if (c.body) {
          if (c.streamed) {
            init.body = streamOf(c.body, 8192);
            init.duplex = "half";
          } else init.body = c.body as BodyInit;
        }
        const res: Response = await fetch(`${srv.origin}${c.path}`, init);
        await res.arrayBuffer();
        assert.equal(res.status, 200, c.name);
        const expected = c.body ?? new Uint8Array(0);
        assert.equal(
          res.headers.get("x-body-length"),
          String(expected.byteLength),
          `${c.name}: length`,
        );
        assert.equal(
          res.headers.get("x-body-sha256"),
          await sha256(expected),
          `${c.name}: bytes`,
        );
      }
      const spans = await rx.waitForSpanCount(BAD_CASES.length, 10_000);
      for (const c of BAD_CASES) {
        const span = spans.find((s) =>
          JSON.stringify(s.attributes["http.request.header.x-case"]) ===
            JSON.stringify([c.name])
        );
        assert.ok(span, `no span for ${c.name}`);
        assert.equal(span.kind, 2, c.name);
        assert.equal(span.attributes["http.request.method"], c.method);
        assert.equal(span.attributes["http.response.status_code"], 200);
        assert.equal(span.status.code, 0, c.name);
        c.check?.(span);
      }
    });
  } finally {
    await server?.stop();
    await rx.close();
  }
});

test("traceHandler with a body already partially read before it: the handler reads the rest, nothing throws", async () => {
  const rx = await startOtlpReceiver();
  try {
    await withTracing("test.reliability.partial", rx.url, {
      OTEL_BSP_SCHEDULE_DELAY: "50",
    }, async () => {
      const h = traceHandler(echoHandler, { maxBodyBytes: MAX_BODY });
      const all = enc.encode(
        JSON.stringify({ model: "p", n: 1, pad: "z".repeat(500) }),
      );
      const req = new Request("http://127.0.0.1/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", "x-partial": "1" },
        body: streamOf(all, 100),
        duplex: "half",
      } as RequestInit);
      const reader = req.body!.getReader();
      const first = await reader.read();
      reader.releaseLock();
      const rest = all.slice(first.value!.byteLength);
      const res = await h(req);
      await res.arrayBuffer();
      assert.equal(res.headers.get("x-body-sha256"), await sha256(rest));
      const [span] = await rx.waitForSpanCount(1, 5000);
      assert.equal(span.attributes["gen_ai.operation.name"], "chat");
      assert.equal(span.attributes["gen_ai.request.model"], undefined);
    });
  } finally {
    await rx.close();
  }
});

test("no unhandled promise rejection happened in this file", async () => {
  await sleep(50);
  assert.deepEqual(unhandled.map(String), []);
});
