// What tracedFetch sends upstream besides the caller's request
// (src/http/upstream.ts): traceparent where propagateTo allows it, the
// CLIENT span under traceHandler's SERVER span, and the signal that stops the
// call; against real upstream servers on loopback, spans checked as a real
// OTLP/HTTP receiver decoded them.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  forceFlush,
  parseTraceparent,
  tracedFetch,
  traceHandler,
} from "../../mod.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";
import { startServer } from "../support/servers.ts";
import {
  CHAT_BODY,
  CLIENT,
  clientChildren,
  parentSpan,
  SERVER,
  startUpstream,
  UNSET,
} from "./client_support.ts";

let t: Tracing;
useTracing("upstream-test", (ready) => (t = ready));

test("traceparent: the CLIENT span's id under the strict grammar; the caller's Headers and init are not mutated", async () => {
  const up = startUpstream();
  try {
    const p = parentSpan(t, "traceparent");
    const headers = new Headers({
      "content-type": "application/json",
      "x-request-id": "abc",
      // a stale traceparent of the caller's is replaced on the wire only
      traceparent: "00-11111111111111111111111111111111-2222222222222222-01",
    });
    const init: RequestInit = { method: "POST", headers, body: CHAT_BODY };
    const beforeHeaders = [...headers];
    const beforeInit = Object.keys(init);
    const res = await tracedFetch(`${up.origin}/v1/chat/completions`, init, {
      context: p.ctx,
    });
    await res.json();
    p.span.end();

    assert.deepEqual([...headers], beforeHeaders);
    assert.deepEqual(Object.keys(init), beforeInit);
    assert.equal(init.headers, headers);
    assert.equal(init.signal, undefined);

    const [span] = await clientChildren(t, p.spanId);
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
    await up.stop();
  }
});

test("{ request } under traceHandler: the CLIENT span is a child of the SERVER span", async () => {
  const up = startUpstream();
  const router = startServer(traceHandler(async (req: Request) => {
    return await tracedFetch(`${up.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: await req.text(),
    }, { request: req });
  }, { route: "/route-under-test" }));
  try {
    const res = await fetch(`${router.origin}/v1/chat/completions`, {
      method: "POST",
      body: CHAT_BODY,
      headers: { "content-type": "application/json" },
    });
    assert.equal(res.status, 200);
    await res.json();
    await forceFlush();
    const spans = await t.receiver.waitForSpans((all) => {
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
    await router.stop();
    await up.stop();
  }
});

test("propagateTo: an origin list or a function that excludes the upstream sends no traceparent", async () => {
  const up = startUpstream();
  try {
    const p = parentSpan(t, "propagateTo");
    const calls: {
      label: string;
      propagateTo: string[] | ((u: string) => boolean);
    }[] = [
      { label: "other origin", propagateTo: ["https://api.example.com"] },
      // same host, other port: not the same origin
      { label: "other port", propagateTo: [`http://127.0.0.1:${up.port + 1}`] },
      { label: "function no", propagateTo: (u) => !u.startsWith(up.origin) },
      { label: "function yes", propagateTo: (u) => u.startsWith(up.origin) },
      { label: "list yes", propagateTo: [up.origin] },
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
        `${up.origin}/plain?c=${c.label.replace(" ", "-")}`,
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
      `${up.origin}/plain?c=function-no`,
      `${up.origin}/plain?c=function-yes`,
    ]);
    // the spans exist either way
    const spans = await clientChildren(t, p.spanId, 5);
    assert.equal(spans.length, 5);
  } finally {
    await up.stop();
  }
});

test("a Request input's own abort signal still aborts the call, also with { request } (Bun's client-gone signal)", async () => {
  // An upstream that answers only after 3 s; `release()` answers at once
  // (a pending handler would hold up the server's shutdown).
  const pending = new Set<() => void>();
  const release = () => {
    for (const answer of [...pending]) answer();
  };
  const slow = startServer(() =>
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
  const router = startServer(traceHandler(async (req: Request) => {
    const label = new URL(req.url).pathname.slice(1);
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(new Error("caller gave up")), 100);
    const started = Date.now();
    try {
      const res = await tracedFetch(
        new Request(`${slow.origin}/${label}`, { signal: ac.signal }),
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
      const res = await fetch(`${router.origin}/${label}`);
      assert.equal(await res.text(), "done");
    }
  } finally {
    release();
    await router.stop();
    await slow.stop();
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
  const spans = await t.receiver.waitForSpans((all) =>
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
    // The caller's own abort before any answer: a cancel, not an error.
    assert.equal(s.status.code, UNSET);
    assert.equal(s.attributes["error.type"], undefined);
    assert.equal(s.attributes["llmtrace.response.cancelled"], true);
  }
});
