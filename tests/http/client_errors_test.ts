// tracedFetch (src/http/client.ts) when the upstream fails: connection
// refused, a 5xx, and retries as separate CLIENT spans; spans checked as a
// real OTLP/HTTP receiver decoded them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTraceparent, tracedFetch } from "../../mod.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";
import { deadPort } from "../support/servers.ts";
import {
  CHAT_BODY,
  clientChildren,
  ERROR,
  parentSpan,
  startUpstream,
  UNSET,
} from "./client_support.ts";

let t: Tracing;
useTracing("client-errors-test", (ready) => (t = ready));

test("connection refused: the fetch error is re-thrown as is; span has error.type and ERROR", async () => {
  const port = await deadPort();
  const p = parentSpan(t, "refused");
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
  const [span] = await clientChildren(t, p.spanId);
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
  const up = startUpstream();
  try {
    const p = parentSpan(t, "503");
    const res = await tracedFetch(`${up.origin}/unavailable`, undefined, {
      context: p.ctx,
    });
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { error: "overloaded" });
    p.span.end();
    const [span] = await clientChildren(t, p.spanId);
    assert.equal(span.status.code, ERROR);
    assert.equal(span.attributes["error.type"], "503");
    assert.equal(span.attributes["http.response.status_code"], 503);
  } finally {
    await up.stop();
  }
});

test("retries: two attempts are two CLIENT spans, the second with http.request.resend_count 1", async () => {
  const up = startUpstream();
  try {
    const p = parentSpan(t, "retry");
    let res: Response | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      res = await tracedFetch(
        `${up.origin}/flaky`,
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
    const spans = await clientChildren(t, p.spanId, 2);
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
    await up.stop();
  }
});
