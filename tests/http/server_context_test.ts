// traceHandler and context, over real servers, to a real OTLP receiver:
// an incoming traceparent (trusted or not) as the server span's parent or
// link, contextOf(req) inside the handler, and the runtime's extra handler
// arguments passed through.
import { test } from "node:test";
import assert from "node:assert/strict";
import { trace, type Tracer } from "@opentelemetry/api";
import { contextOf } from "../../mod.ts";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { currentRuntime, withServer } from "../support/servers.ts";
import {
  INTERNAL,
  newId,
  serverSpanQueries,
  traced,
} from "./server_support.ts";

let receiver: OtlpReceiver;
let tracer: Tracer;

useTracing("server-context-test", (t) => {
  receiver = t.receiver;
  tracer = t.tracer;
});

const { serverSpan, serverSpans, waitFor } = serverSpanQueries(() => receiver);

// ---------------------------------------------------------------------------
// Incoming trace context
// ---------------------------------------------------------------------------

const CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";
const TRACEPARENT = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;

test("an incoming traceparent is the parent by default", async () => {
  const id = newId("tp-trusted");
  await withServer(
    traced(id, () => new Response("ok")),
    async (srv) => {
      const res = await fetch(`${srv.origin}/x`, {
        headers: { traceparent: TRACEPARENT, tracestate: "vendor=1" },
      });
      await res.arrayBuffer();
    },
  );
  const span = await serverSpan(id);
  assert.equal(span.traceId, CALLER_TRACE);
  assert.equal(span.parentSpanId, CALLER_SPAN);
  assert.equal(span.traceState, "vendor=1");
  assert.deepEqual(span.links, []);
});

test("trustIncomingContext:false starts a new trace linked to the caller", async () => {
  const id = newId("tp-untrusted");
  await withServer(
    traced(id, () => new Response("ok"), { trustIncomingContext: false }),
    async (srv) => {
      const res = await fetch(`${srv.origin}/x`, {
        headers: { traceparent: TRACEPARENT },
      });
      await res.arrayBuffer();
    },
  );
  const span = await serverSpan(id);
  assert.notEqual(span.traceId, CALLER_TRACE);
  assert.match(span.traceId, /^[0-9a-f]{32}$/);
  assert.equal(span.parentSpanId, undefined);
  assert.equal(span.links.length, 1);
  assert.equal(span.links[0].traceId, CALLER_TRACE);
  assert.equal(span.links[0].spanId, CALLER_SPAN);
});

test("trustIncomingContext as a function decides per request", async () => {
  const id = newId("tp-fn");
  await withServer(
    traced(id, () => new Response("ok"), {
      trustIncomingContext: (req) => req.headers.get("x-internal") === "yes",
    }),
    async (srv) => {
      for (const internal of ["yes", "no"]) {
        const res = await fetch(`${srv.origin}/${internal}`, {
          headers: { traceparent: TRACEPARENT, "x-internal": internal },
        });
        await res.arrayBuffer();
      }
    },
  );
  const spans = await serverSpans(id, 2);
  const trusted = spans.find((s) => s.attributes["url.path"] === "/yes")!;
  const untrusted = spans.find((s) => s.attributes["url.path"] === "/no")!;
  assert.equal(trusted.traceId, CALLER_TRACE);
  assert.equal(trusted.parentSpanId, CALLER_SPAN);
  assert.deepEqual(trusted.links, []);
  assert.notEqual(untrusted.traceId, CALLER_TRACE);
  assert.equal(untrusted.parentSpanId, undefined);
  assert.deepEqual(
    untrusted.links.map((l) => [l.traceId, l.spanId]),
    [[CALLER_TRACE, CALLER_SPAN]],
  );
});

// ---------------------------------------------------------------------------
// Handler context and runtime arguments
// ---------------------------------------------------------------------------

test("contextOf(req) is the server span's context", async () => {
  const id = newId("contextof");
  let outside: unknown = "unset";
  await withServer(
    traced(id, (req) => {
      const ctx = contextOf(req);
      const child = tracer.startSpan(
        "handler-child",
        { attributes: { "test.id": id } },
        ctx,
      );
      child.end();
      const serverSpanId = ctx ? trace.getSpan(ctx)?.spanContext().spanId : "";
      return Response.json({ serverSpanId });
    }),
    async (srv) => {
      outside = contextOf(new Request(srv.origin));
      const res = await fetch(`${srv.origin}/work`);
      const body = await res.json();
      const span = await serverSpan(id);
      assert.equal(body.serverSpanId, span.spanId);
      const child = await waitFor(
        "handler-child",
        (spans) =>
          spans.find((s) =>
            s.name === "handler-child" && s.attributes["test.id"] === id
          ),
      );
      assert.equal(child.kind, INTERNAL);
      assert.equal(child.traceId, span.traceId);
      assert.equal(child.parentSpanId, span.spanId);
    },
  );
  assert.equal(outside, undefined, "a request traceHandler did not wrap");
});

test("the runtime's extra handler arguments pass through", async () => {
  const id = newId("rest");
  let seen: unknown[] = [];
  // Deno's info.remoteAddr is only readable while the request is open.
  let remote: { hostname: string; port: number; transport: string } | null =
    null;
  await withServer(
    traced(id, (_req: Request, ...rest: unknown[]) => {
      seen = rest;
      const info = rest[0] as { remoteAddr?: typeof remote } | undefined;
      if (currentRuntime() === "deno") remote = info?.remoteAddr ?? null;
      return new Response("ok");
    }),
    async (srv) => {
      const res = await fetch(`${srv.origin}/rest`);
      assert.equal(await res.text(), "ok");
      assert.ok(seen.length >= 1, "an extra argument arrived");
      if (currentRuntime() === "deno") {
        assert.ok(remote, "Deno's info.remoteAddr");
        const r = remote as {
          hostname: string;
          port: number;
          transport: string;
        };
        assert.equal(r.transport, "tcp");
        assert.equal(r.hostname, "127.0.0.1");
        assert.ok(r.port > 0);
      } else {
        assert.equal(seen[0], srv.raw, "Bun's server object");
        const server = seen[0] as { requestIP: unknown; port: number };
        assert.equal(typeof server.requestIP, "function");
        assert.equal(server.port, srv.port);
      }
    },
  );
  const span = await serverSpan(id);
  assert.equal(span.attributes["client.address"], "127.0.0.1");
});
