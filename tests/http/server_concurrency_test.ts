// Many concurrent requests to one real traced server whose handler
// interleaves awaits and starts nested spans from contextOf(req): every span
// must land in its own request's trace under the right parent, with no
// context manager and with the web SDK's StackContextManager.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  context,
  createContextKey,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import {
  contextOf,
  forceFlush,
  initTracer,
  shutdownTracing,
  traceHandler,
} from "../../mod.ts";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from "../support/otlp_receiver.ts";
import { withServer } from "../support/servers.ts";

const SERVER = 2; // OTLP SPAN_KIND_SERVER
const REQUESTS = 120;
const MAX_DELAY_MS = 8;

let receiver: OtlpReceiver;
let tracer: Tracer;

before(async () => {
  receiver = await startOtlpReceiver();
  // The first run has no context manager; the second re-initializes.
  tracer = await initTracer("serve-test", receiver.url, undefined, {
    contextManager: null,
  });
});

after(async () => {
  await shutdownTracing();
  await receiver.close();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A small seeded PRNG (mulberry32): reproducible "random" delays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whether a context manager that really propagates is registered. */
function contextManagerWorks(): boolean {
  const key = createContextKey("llmtrace.test.probe");
  const ctx = context.active().setValue(key, 1);
  return context.with(ctx, () => context.active().getValue(key) === 1);
}

/** Flushes and polls (bounded) until `count` spans with `run` arrived. */
async function spansOfRun(run: string, count: number): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + 15_000;
  let found: ReceivedSpan[] = [];
  for (let i = 0; i < 10_000; i++) {
    await forceFlush();
    found = receiver.spans().filter((s) => s.attributes["test.run"] === run);
    if (found.length >= count || Date.now() >= deadline) break;
    await sleep(25);
  }
  return found;
}

async function runConcurrently(run: string): Promise<void> {
  const delay = prng(0x5eed + run.length);
  const nextDelay = () => Math.floor(delay() * (MAX_DELAY_MS + 1));
  const handler = traceHandler(async (req: Request) => {
    const marker = req.headers.get("x-marker") ?? "missing";
    await sleep(nextDelay());
    const parent = contextOf(req);
    assert.ok(parent, "contextOf(req) inside the handler");
    const attrs = { "test.run": run, "test.marker": marker };
    const child = tracer.startSpan("child", { attributes: attrs }, parent);
    await sleep(nextDelay());
    const childCtx = trace.setSpan(parent, child);
    // Under a context manager, also nest through context.with; the explicit
    // context must win either way.
    const grandchild = context.with(
      childCtx,
      () => tracer.startSpan("grandchild", { attributes: attrs }, childCtx),
    );
    await sleep(nextDelay());
    grandchild.end();
    await Promise.resolve();
    await sleep(nextDelay());
    child.end();
    return Response.json({ marker });
  }, {
    captureHeaders: ["x-marker"],
    attributes: { "test.run": run },
  });

  // Half of the requests come with a caller's traceparent.
  const callerTrace = (i: number) =>
    (run.length.toString(16) + i.toString(16)).padStart(32, "a");
  await withServer(handler, async (srv) => {
    const results = await Promise.all(
      Array.from({ length: REQUESTS }, async (_, i) => {
        const marker = `${run}-m${i}`;
        const headers: Record<string, string> = { "x-marker": marker };
        if (i % 2 === 0) {
          headers.traceparent = `00-${callerTrace(i)}-00000000000000aa-01`;
        }
        const res = await fetch(`${srv.origin}/req/${i}`, {
          headers,
          signal: AbortSignal.timeout(20_000),
        });
        const body = await res.json();
        return { status: res.status, marker, echoed: body.marker as string };
      }),
    );
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.echoed, r.marker, "each response is its own request's");
    }
  });

  const spans = await spansOfRun(run, 3 * REQUESTS);
  assert.equal(spans.length, 3 * REQUESTS, "server, child, grandchild each");
  const servers = spans.filter((s) => s.kind === SERVER);
  const children = spans.filter((s) => s.name === "child");
  const grandchildren = spans.filter((s) => s.name === "grandchild");
  assert.equal(servers.length, REQUESTS);
  assert.equal(children.length, REQUESTS);
  assert.equal(grandchildren.length, REQUESTS);

  const serverByMarker = new Map<string, ReceivedSpan>();
  for (const s of servers) {
    const h = s.attributes["http.request.header.x-marker"] as string[];
    assert.equal(h.length, 1);
    assert.ok(!serverByMarker.has(h[0]), `one server span per marker ${h[0]}`);
    serverByMarker.set(h[0], s);
  }
  const byMarker = (list: ReceivedSpan[]) =>
    new Map(list.map((s) => [s.attributes["test.marker"] as string, s]));
  const childByMarker = byMarker(children);
  const grandByMarker = byMarker(grandchildren);
  const traceIds = new Set<string>();
  for (let i = 0; i < REQUESTS; i++) {
    const marker = `${run}-m${i}`;
    const s = serverByMarker.get(marker);
    const c = childByMarker.get(marker);
    const g = grandByMarker.get(marker);
    assert.ok(s && c && g, `all three spans of ${marker}`);
    assert.equal(s.attributes["url.path"], `/req/${i}`);
    if (i % 2 === 0) {
      assert.equal(s.traceId, callerTrace(i));
      assert.equal(s.parentSpanId, "00000000000000aa");
    } else {
      assert.equal(s.parentSpanId, undefined);
    }
    assert.equal(c.traceId, s.traceId, `${marker}: child in its own trace`);
    assert.equal(c.parentSpanId, s.spanId, `${marker}: child under server`);
    assert.equal(g.traceId, s.traceId, `${marker}: grandchild in its trace`);
    assert.equal(g.parentSpanId, c.spanId, `${marker}: grandchild under child`);
    assert.ok(g.endTimeUnixNano <= c.endTimeUnixNano);
    assert.ok(c.endTimeUnixNano <= s.endTimeUnixNano);
    traceIds.add(s.traceId);
  }
  assert.equal(traceIds.size, REQUESTS, "one trace per request");
}

test("100+ concurrent requests, no context manager", async () => {
  assert.equal(contextManagerWorks(), false, "no context manager registered");
  await runConcurrently("no-cm");
});

test("100+ concurrent requests, StackContextManager registered", async () => {
  await shutdownTracing();
  tracer = await initTracer("serve-test", receiver.url);
  assert.equal(contextManagerWorks(), true, "StackContextManager registered");
  await runConcurrently("stack-cm");
});
