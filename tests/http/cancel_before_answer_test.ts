// A cancel before any answer came ("stop generating" while the model is still
// in prefill) is the client's cancel, as it is mid-stream: status unset, no
// error.type, gen_ai.response.finish_reasons ["error"] for a GenAI call, and
// llmtrace.response.cancelled. A timeout stays an error. Spans checked at the
// real OTLP receiver.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tracedFetch } from "../../mod.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";
import { isDeno } from "../support/helpers.ts";
import { startServer } from "../support/servers.ts";
import { clientChildren, ERROR, parentSpan, UNSET } from "./client_support.ts";
import { newId, serverSpanQueries, traced } from "./server_support.ts";

let t: Tracing;
useTracing("cancel-before-answer-test", (ready) => (t = ready));
const { serverSpans } = serverSpanQueries(() => t.receiver);

const CHAT = JSON.stringify({
  model: "m",
  stream: true,
  messages: [{ role: "user", content: "hi" }],
});

/** An upstream that sends its headers only when released (bounded: 3 s). */
function slowUpstream() {
  const pending = new Set<() => void>();
  const server = startServer(() =>
    new Promise<Response>((resolve) => {
      const answer = () => {
        clearTimeout(timer);
        pending.delete(answer);
        resolve(new Response("late"));
      };
      const timer = setTimeout(answer, 3_000);
      pending.add(answer);
    })
  );
  return {
    origin: server.origin,
    async stop() {
      for (const answer of [...pending]) answer();
      await server.stop();
    },
  };
}

test("tracedFetch: the caller's abort before the headers is a cancel; a timeout is an error", async () => {
  const up = slowUpstream();
  try {
    for (const how of ["abort", "abort with a reason", "timeout"] as const) {
      const p = parentSpan(t, `before-answer-${how}`);
      const ac = new AbortController();
      const timer = setTimeout(
        () => how === "abort" ? ac.abort() : ac.abort(new Error("gave up")),
        50,
      );
      await assert.rejects(
        tracedFetch(`${up.origin}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: CHAT,
          signal: how === "timeout" ? AbortSignal.timeout(50) : ac.signal,
        }, { context: p.ctx }),
      );
      clearTimeout(timer);
      p.span.end();
      const [span] = await clientChildren(t, p.spanId);
      if (how === "timeout") {
        assert.equal(span.status.code, ERROR);
        assert.equal(span.attributes["error.type"], "TimeoutError");
        assert.equal(span.attributes["llmtrace.response.cancelled"], undefined);
      } else {
        assert.equal(span.status.code, UNSET, `${how}: ${span.status.message}`);
        assert.equal(span.attributes["error.type"], undefined, how);
        assert.equal(span.attributes["llmtrace.response.cancelled"], true, how);
        assert.deepEqual(span.attributes["gen_ai.response.finish_reasons"], [
          "error",
        ]);
        assert.equal(
          span.events.some((e) => e.name === "exception"),
          false,
          `${how}: no exception event`,
        );
      }
    }
  } finally {
    await up.stop();
  }
});

test(
  "traceHandler: a handler that gives up because its client went away is a cancel; other throws stay errors",
  {
    // Deno has no client-gone signal before the answer (README, limitations).
    skip: isDeno
      ? "Deno exposes no client-gone signal before the answer"
      : false,
  },
  async () => {
    for (const gone of [true, false]) {
      const id = newId(gone ? "gone" : "threw");
      const ac = new AbortController();
      const handler = traced(id, async (req: Request) => {
        await req.text();
        if (gone) ac.abort();
        throw new DOMException("The operation was aborted.", "AbortError");
      });
      const req = new Request("http://127.0.0.1/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: CHAT,
        signal: ac.signal,
      });
      await assert.rejects(Promise.resolve().then(() => handler(req)));
      const [span] = await serverSpans(id, 1);
      if (gone) {
        assert.equal(span.status.code, UNSET, span.status.message);
        assert.equal(span.attributes["error.type"], undefined);
        assert.equal(span.attributes["llmtrace.response.cancelled"], true);
        assert.deepEqual(span.attributes["gen_ai.response.finish_reasons"], [
          "error",
        ]);
      } else {
        assert.equal(span.status.code, ERROR);
        assert.equal(span.attributes["error.type"], "AbortError");
        assert.equal(span.attributes["llmtrace.response.cancelled"], undefined);
      }
    }
  },
);
