// tracedFetch called with a Request: the attributes the GenAI conventions
// want at span creation (for samplers) are there when the span starts, if
// the body is at hand; the span still starts at the call, the upstream gets
// the same bytes, and an upload still streaming is not waited for. What the
// span carried at creation is seen by a span processor's onStart (what a
// sampler sees), what it ended with by the real OTLP receiver.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import {
  initTracer,
  shutdownTracing,
  type SpanProcessor,
  tracedFetch,
} from "../../mod.ts";
import {
  type OtlpReceiver,
  startOtlpReceiver,
} from "../support/otlp_receiver.ts";
import { CLEAN_ENV, setEnv, sleep } from "../support/helpers.ts";
import {
  clientChildren,
  nowNanos,
  parentSpan,
  startUpstream,
} from "./client_support.ts";
import type { Tracing } from "../support/tracing.ts";

/** What a span carried when it started, by span id. */
const atStart = new Map<
  string,
  { name: string; attributes: Record<string, unknown> }
>();

const recorder: SpanProcessor = {
  onStart(span) {
    const s = span as unknown as ReadableSpan;
    atStart.set(s.spanContext().spanId, {
      name: s.name,
      attributes: { ...s.attributes },
    });
  },
  onEnd() {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

let t: Tracing;
let receiver: OtlpReceiver;
let restoreEnv = () => {};
before(async () => {
  receiver = await startOtlpReceiver();
  restoreEnv = setEnv({ ...CLEAN_ENV, OTEL_METRICS_EXPORTER: "none" });
  const tracer = await initTracer(
    "client-sampling-test",
    receiver.url,
    undefined,
    {
      spanProcessors: [recorder],
    },
  );
  t = { receiver, tracer };
});
after(async () => {
  await shutdownTracing();
  restoreEnv();
  await receiver.close();
});

const BODY = JSON.stringify({
  model: "acme/sampled",
  messages: [{ role: "user", content: "hi" }],
  max_tokens: 4,
});

/** The attributes a sampler needs, as the conventions list them. */
function samplingAttributes(a: Record<string, unknown>) {
  return {
    op: a["gen_ai.operation.name"],
    provider: a["gen_ai.provider.name"],
    model: a["gen_ai.request.model"],
    address: a["server.address"],
    port: a["server.port"],
  };
}

for (
  const body of [
    { label: "a string body", make: () => BODY },
    {
      label: "a stream body with a declared content-length",
      make: () => {
        const bytes = new TextEncoder().encode(BODY);
        return new ReadableStream<Uint8Array>({
          async pull(c) {
            await sleep(60); // not at hand yet: the read waits for it
            c.enqueue(bytes);
            c.close();
          },
        });
      },
      length: new TextEncoder().encode(BODY).byteLength,
    },
  ]
) {
  test(`a Request with ${body.label}: sampling attributes at span creation, start time the call's, bytes unchanged`, async () => {
    const up = startUpstream();
    try {
      const p = parentSpan(t, body.label);
      const headers: Record<string, string> = {
        "content-type": "application/json",
      };
      if (body.length !== undefined) {
        headers["content-length"] = String(body.length);
      }
      const req = new Request(`${up.origin}/v1/chat/completions`, {
        method: "POST",
        headers,
        body: body.make(),
        // @ts-ignore: duplex is required for stream bodies, absent from older lib types
        duplex: "half",
      });
      const calledAt = nowNanos();
      const res = await tracedFetch(req, undefined, { context: p.ctx });
      assert.equal(res.status, 200);
      await res.text();
      p.span.end();
      const [span] = await clientChildren(t, p.spanId);
      const started = atStart.get(span.spanId);
      assert.ok(started, "onStart saw the span");
      assert.deepEqual(samplingAttributes(started.attributes), {
        op: "chat",
        provider: "openai",
        model: "acme/sampled",
        address: "127.0.0.1",
        port: up.port,
      });
      assert.equal(started.name, "chat acme/sampled");
      // The span starts at the call, not after the body was read.
      const lateBy = Number(span.startTimeUnixNano - calledAt) / 1e6;
      assert.ok(lateBy < 30, `span started ${lateBy} ms after the call`);
      assert.equal(
        up.seen.at(-1)!.body,
        BODY,
        "the upstream got the same bytes",
      );
    } finally {
      await up.stop();
    }
  });
}

test("a Request whose upload is still streaming (no length) is not waited for: the model comes later", async () => {
  const up = startUpstream();
  try {
    atStart.clear(); // only this test's spans
    const p = parentSpan(t, "streaming upload");
    const bytes = new TextEncoder().encode(BODY);
    let released = false;
    let release!: () => void;
    const go = new Promise<void>((r) => (release = r));
    // The body waits for the upstream to have seen the request start (or
    // 3 s): a tracedFetch that waited for the body would never get there.
    const timer = setTimeout(release, 3_000);
    let sent = 0;
    const req = new Request(`${up.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream<Uint8Array>({
        async pull(c) {
          await go;
          released = true;
          c.enqueue(
            bytes.subarray(sent, sent = Math.min(bytes.length, sent + 16)),
          );
          if (sent === bytes.length) c.close();
        },
      }),
      // @ts-ignore: duplex is required for stream bodies
      duplex: "half",
    });
    const calledAt = Date.now();
    const pending = tracedFetch(req, undefined, { context: p.ctx });
    // The span started without waiting: onStart has run before any byte.
    const parentId = p.spanId;
    for (
      let i = 0;
      i < 100 && ![...atStart.values()].some((s) => s.name === "POST");
      i++
    ) {
      await sleep(10);
    }
    const early = [...atStart.entries()].find(([, s]) => s.name === "POST");
    assert.ok(early, "the span started before the body was sent");
    assert.equal(released, false);
    assert.equal(early[1].attributes["gen_ai.request.model"], undefined);
    assert.equal(early[1].attributes["gen_ai.operation.name"], "chat");
    release();
    clearTimeout(timer);
    const res = await pending;
    await res.text();
    assert.ok(Date.now() - calledAt < 3_000, "not held until the timer");
    p.span.end();
    const [span] = await clientChildren(t, parentId);
    assert.equal(span.spanId, early[0]);
    // Read on the side as the body went upstream: applied before the end.
    assert.equal(span.name, "chat acme/sampled");
    assert.equal(span.attributes["gen_ai.request.model"], "acme/sampled");
    assert.equal(up.seen.at(-1)!.body, BODY);
  } finally {
    await up.stop();
  }
});
