// Properties, with fast-check (bounded runs): hostile header inputs never
// make the header and W3C helpers throw; formatted traceparents parse back;
// request/response body parsers never throw; any chunking of an SSE stream
// gives the same summary; traceHandler hands the handler the exact bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { trace } from "@opentelemetry/api";
import {
  containsTraceHeaders,
  extractTraceContext,
  extractTraceHeaders,
  type HeadersLike,
} from "../src/core/headers.ts";
import {
  formatTraceHeaders,
  parseTraceparent,
  parseTracestate,
} from "../src/core/propagation.ts";
import {
  parseRequestBody,
  parseRequestJson,
} from "../src/genai/openai_request.ts";
import {
  parseResponseBody,
  parseResponseJson,
} from "../src/genai/openai_response.ts";
import { OpenAIStreamReader as SseObserver } from "../src/genai/openai_stream.ts";
import { traceHandler } from "../src/http/server.ts";
import type { OtlpReceiver } from "./support/otlp_receiver.ts";
import { useTracing } from "./support/tracing.ts";

const RUNS = 200;

let rx: OtlpReceiver;

useTracing("test.property", (t) => {
  rx = t.receiver;
}, {
  OTEL_BSP_MAX_QUEUE_SIZE: undefined,
  OTEL_BSP_SCHEDULE_DELAY: "200",
});

// ---------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------

const TRACE_NAMES = ["traceparent", "TraceParent", "TRACESTATE", "tracestate"];

/** Strings with control characters, odd Unicode and trace-ish shapes. */
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({
    unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  }),
  fc.constantFrom(
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n",
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "a=1,,b=2",
    "\u0000",
    "__proto__",
    "constructor",
  ),
);
const headerKey = fc.oneof(fc.constantFrom(...TRACE_NAMES), hostileString);
const headerValue = fc.oneof(
  hostileString,
  fc.array(hostileString, { maxLength: 4 }),
  fc.anything(),
);

/** An object whose property reads throw. */
function throwingObject(keys: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of keys) {
    Object.defineProperty(o, k, {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
  }
  return o;
}

const hostileHeaders: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything(),
  fc.dictionary(headerKey, headerValue),
  fc.array(fc.tuple(headerKey, headerValue), { maxLength: 8 }),
  fc.array(fc.anything(), { maxLength: 8 }),
  fc.array(fc.tuple(headerKey, headerValue), { maxLength: 8 }).map((p) =>
    new Map(p)
  ),
  fc.uniqueArray(fc.constantFrom(...TRACE_NAMES), { maxLength: 3 }).map(
    throwingObject,
  ),
  fc.constant(
    new Proxy({}, {
      ownKeys() {
        throw new Error("boom");
      },
      get() {
        throw new Error("boom");
      },
    }),
  ),
  fc.constant({
    *[Symbol.iterator]() {
      yield ["traceparent", "x"];
      throw new Error("boom");
    },
  }),
  fc.constant({ headers: "not Headers" }),
  fc.array(fc.tuple(headerKey, hostileString), { maxLength: 6 }).map((p) => {
    const h = new Headers();
    for (const [k, v] of p) {
      try {
        h.append(k, v);
      } catch {
        // not a legal header: skip
      }
    }
    return h;
  }),
);

test("hostile header inputs never make the header helpers throw", () => {
  fc.assert(
    fc.property(hostileHeaders, (h) => {
      const headers = h as HeadersLike;
      const extracted = extractTraceHeaders(headers);
      for (const [k, v] of Object.entries(extracted)) {
        assert.ok(k === "traceparent" || k === "tracestate", k);
        assert.equal(typeof v, "string");
      }
      assert.equal(
        containsTraceHeaders(headers),
        Object.keys(extracted).length > 0,
      );
      const ctx = extractTraceContext(headers);
      if (ctx !== undefined) {
        const sc = trace.getSpanContext(ctx);
        assert.ok(sc && trace.isSpanContextValid(sc));
        assert.equal(sc.isRemote, true);
      }
    }),
    { numRuns: RUNS },
  );
});

test("parseTraceparent and parseTracestate never throw on any string", () => {
  fc.assert(
    fc.property(fc.oneof(hostileString, fc.anything()), (v) => {
      const sc = parseTraceparent(v as string);
      if (sc) {
        assert.match(sc.traceId, /^[0-9a-f]{32}$/);
        assert.match(sc.spanId, /^[0-9a-f]{16}$/);
      }
      const ts = parseTracestate(v as string);
      if (ts) assert.equal(typeof ts.serialize(), "string");
    }),
    { numRuns: RUNS },
  );
});

const hex = (bytes: Uint8Array) =>
  [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const nonZeroId = (n: number) =>
  fc.uint8Array({ minLength: n, maxLength: n })
    .filter((b) => b.some((x) => x !== 0))
    .map(hex);
const tsKey = fc.stringMatching(/^[a-z0-9][a-z0-9_\-*/@]{0,20}$/);
const tsValue = fc.stringMatching(
  /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,20}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/,
);

test("every traceparent formatTraceHeaders produces parses back to the same ids", () => {
  fc.assert(
    fc.property(
      nonZeroId(16),
      nonZeroId(8),
      fc.integer({ min: 0, max: 255 }),
      fc.uniqueArray(fc.tuple(tsKey, tsValue), {
        maxLength: 5,
        selector: ([k]) => k,
      }),
      (traceId, spanId, traceFlags, entries) => {
        const traceState = parseTracestate(
          entries.map(([k, v]) => `${k}=${v}`).join(","),
        );
        const out = formatTraceHeaders({
          traceId,
          spanId,
          traceFlags,
          traceState,
        });
        assert.ok(out);
        assert.match(
          out.traceparent,
          /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/,
        );
        const back = parseTraceparent(out.traceparent);
        assert.ok(back, out.traceparent);
        assert.equal(back.traceId, traceId);
        assert.equal(back.spanId, spanId);
        assert.equal(back.traceFlags, traceFlags);
        if (entries.length) {
          const ts = parseTracestate(out.tracestate);
          assert.ok(ts, String(out.tracestate));
          for (const [k, v] of entries) assert.equal(ts.get(k), v);
        } else assert.equal(out.tracestate, undefined);
      },
    ),
    { numRuns: RUNS },
  );
});

// ---------------------------------------------------------------------------
// Body parsers
// ---------------------------------------------------------------------------

const enc = new TextEncoder();
const openAiish = fc.record({
  model: fc.oneof(fc.string(), fc.anything()),
  max_tokens: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.anything()),
  temperature: fc.oneof(fc.double(), fc.string(), fc.anything()),
  n: fc.anything(),
  stop: fc.oneof(fc.string(), fc.array(fc.anything())),
  stream: fc.anything(),
  choices: fc.array(fc.anything(), { maxLength: 4 }),
  usage: fc.anything(),
}, { requiredKeys: [] });

test("parseRequestBody/parseResponseBody never throw on random bytes or JSON", () => {
  const op = fc.constantFrom(
    undefined,
    "chat",
    "text_completion",
    "embeddings",
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.jsonValue().map((v) => enc.encode(JSON.stringify(v))),
        openAiish.map((v) => JSON.stringify(v) ?? ""),
        fc.string(),
      ),
      op,
      (body, operation) => {
        const req = parseRequestBody(body, operation);
        if (req !== undefined) assert.equal(req.operation, operation);
        parseResponseBody(body);
      },
    ),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(fc.oneof(fc.anything(), openAiish), (v) => {
      parseRequestJson(v, "chat");
      parseResponseJson(v);
    }),
    { numRuns: RUNS },
  );
});

// ---------------------------------------------------------------------------
// SSE chunking
// ---------------------------------------------------------------------------

const sseEvent = fc.oneof(
  fc.record({
    id: fc.constantFrom("c1", "c2"),
    model: fc.constantFrom("m", "", "模型"),
    choices: fc.array(
      fc.record({
        index: fc.integer({ min: 0, max: 2 }),
        delta: fc.record({ content: fc.string({ unit: "grapheme" }) }, {
          requiredKeys: [],
        }),
        finish_reason: fc.constantFrom(null, "stop", "length"),
      }),
      { maxLength: 2 },
    ),
  }).map((o) => `data: ${JSON.stringify(o)}`),
  fc.record({
    choices: fc.constant([]),
    usage: fc.record({
      prompt_tokens: fc.nat(1000),
      completion_tokens: fc.nat(1000),
    }),
  }).map((o) => `data: ${JSON.stringify(o)}`),
  fc.constant("data: [DONE]"),
  fc.constant(": keep-alive comment"),
  fc.constant('event: ping\ndata: {"choices":[]}'),
  fc.constant("data: {not json"),
  fc.constant('data: {"choices":\ndata: []}'),
);

test("any chunking of an SSE stream gives the same summary", () => {
  fc.assert(
    fc.property(
      fc.array(sseEvent, { maxLength: 12 }),
      fc.constantFrom("\n", "\r\n", "\r"),
      fc.boolean(),
      fc.array(fc.nat(), { maxLength: 20 }),
      (events, eol, bom, cuts) => {
        const text = (bom ? "\ufeff" : "") +
          events.map((e) => e.replaceAll("\n", eol) + eol + eol).join("");
        const bytes = enc.encode(text);
        const whole = new SseObserver({ captureContent: true });
        whole.push(bytes);
        whole.end();
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))]
          .sort((a, b) => a - b);
        const split = new SseObserver({ captureContent: true });
        let from = 0;
        for (const p of [...points, bytes.length]) {
          split.push(bytes.subarray(from, p));
          from = p;
        }
        split.end();
        assert.deepEqual(split.info, whole.info);
      },
    ),
    { numRuns: RUNS },
  );
});

// ---------------------------------------------------------------------------
// traceHandler hands the handler identical bytes
// ---------------------------------------------------------------------------

function streamOf(
  bytes: Uint8Array,
  cuts: number[],
): ReadableStream<Uint8Array> {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))]
    .sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p > from) pieces.push(bytes.slice(from, p));
    from = p;
  }
  return new ReadableStream({
    pull(c) {
      const next = pieces.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
}

test("traceHandler hands the handler the request bytes unchanged, whatever they are", async () => {
  const before = rx.spans().length;
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 4096 }),
        fc.jsonValue().map((v) => enc.encode(JSON.stringify(v))),
        openAiish.map((v) => enc.encode(JSON.stringify(v) ?? "")),
      ),
      fc.constantFrom(
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/embeddings",
        "/other",
      ),
      fc.constantFrom(undefined, "application/json", "text/plain"),
      fc.integer({ min: 0, max: 5000 }),
      fc.option(fc.array(fc.nat(), { maxLength: 6 }), { nil: undefined }),
      async (body, path, contentType, maxBodyBytes, cuts) => {
        runs++;
        let seen: Uint8Array | undefined;
        const h = traceHandler(async (req: Request) => {
          seen = new Uint8Array(await req.arrayBuffer());
          return new Response("ok");
        }, { maxBodyBytes });
        const headers: Record<string, string> = {};
        if (contentType) headers["content-type"] = contentType;
        const req = new Request(`http://127.0.0.1${path}`, {
          method: "POST",
          headers,
          body: cuts ? streamOf(body, cuts) : body as BodyInit,
          duplex: "half",
        } as RequestInit);
        const res = await h(req);
        assert.equal(await res.text(), "ok");
        assert.ok(seen);
        assert.deepEqual(seen, body);
      },
    ),
    { numRuns: RUNS },
  );
  // One server span per request reached the collector.
  await rx.waitForSpanCount(before + runs, 10_000);
});
