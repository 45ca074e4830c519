// Property (fast-check, bounded runs): traceHandler (src/http/server.ts)
// hands the handler the request bytes unchanged, whatever they are, however
// they are chunked, whatever the body limit; one server span per request
// reaches the receiver.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { traceHandler } from "../../src/http/server.ts";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import {
  openAiish,
  RUNS,
  usePropertyTracing,
} from "../support/property_arbitraries.ts";

let rx: OtlpReceiver;

usePropertyTracing((t) => {
  rx = t.receiver;
});

const enc = new TextEncoder();

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
