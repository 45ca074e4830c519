// tracedFetch (src/http/client.ts) with streamed answers from a real upstream
// on loopback: the span's end and time to first token, and a downstream
// cancel reaching the upstream; spans checked as a real OTLP/HTTP receiver
// decoded them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tracedFetch } from "../../mod.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";
import { sleep } from "../support/helpers.ts";
import {
  clientChildren,
  ERROR,
  nowNanos,
  parentSpan,
  startUpstream,
  UNSET,
} from "./client_support.ts";

let t: Tracing;
useTracing("client-stream-test", (ready) => (t = ready));

test("a streamed answer: the span ends after the last chunk, time to first token measured", async () => {
  const up = startUpstream();
  try {
    const p = parentSpan(t, "stream");
    const started = nowNanos();
    const res = await tracedFetch(`${up.origin}/v1/stream`, {
      method: "POST",
      body: "{}",
    }, { context: p.ctx });
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = "";
    let lastChunkAt = 0n;
    for (let i = 0; i < 100; i++) {
      const r = await reader.read();
      if (r.done) break;
      lastChunkAt = nowNanos();
      text += dec.decode(r.value, { stream: true });
    }
    assert.ok(text.endsWith("data: [DONE]\n\n"), text);
    p.span.end();

    const [span] = await clientChildren(t, p.spanId);
    assert.equal(span.name, "POST");
    // ended after the last chunk was handed on (1 ms clock slack), and it
    // lasted the upstream's 200 ms of pauses
    assert.ok(
      span.endTimeUnixNano >= lastChunkAt - 1_000_000n,
      `span end ${span.endTimeUnixNano} < last chunk ${lastChunkAt}`,
    );
    assert.ok(span.startTimeUnixNano >= started - 1_000_000n);
    const durMs = Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6;
    assert.ok(durMs >= 190, `span lasted ${durMs} ms`);
    const ttft = span.attributes["gen_ai.response.time_to_first_chunk"];
    assert.equal(typeof ttft, "number");
    // the first content chunk came 80 ms in; the role-only chunk does not count
    assert.ok((ttft as number) >= 0.075, `ttft ${ttft}`);
    assert.ok(
      (ttft as number) * 1000 < durMs - 100,
      `ttft ${ttft} vs ${durMs}`,
    );
    assert.equal(
      span.attributes["gen_ai.latency.time_to_first_token"],
      ttft,
    );
    assert.equal(span.attributes["gen_ai.usage.output_tokens"], 3);
    assert.equal(span.attributes["gen_ai.usage.input_tokens"], 5);
    assert.deepEqual(span.attributes["gen_ai.response.finish_reasons"], [
      "stop",
    ]);
    assert.equal(span.status.code, UNSET);
  } finally {
    await up.stop();
  }
});

test("a downstream cancel of the returned body cancels the upstream stream", async () => {
  const up = startUpstream();
  try {
    const p = parentSpan(t, "cancel");
    const res = await tracedFetch(`${up.origin}/v1/endless`, {
      method: "POST",
      body: "{}",
    }, { context: p.ctx });
    const reader = res.body!.getReader();
    for (let i = 0; i < 2; i++) {
      const r = await reader.read();
      assert.equal(r.done, false);
    }
    assert.equal(up.state.cancelled, false);
    await reader.cancel(new Error("downstream went away"));
    const deadline = Date.now() + 5_000;
    while (!up.state.cancelled && Date.now() < deadline) await sleep(20);
    assert.equal(
      up.state.cancelled,
      true,
      "the upstream stream's cancel() ran within 5 s",
    );
    p.span.end();
    const [span] = await clientChildren(t, p.spanId);
    assert.equal(span.attributes["error.type"], undefined);
    assert.equal(span.status.code, UNSET);
    assert.equal(span.attributes["llmtrace.response.cancelled"], true);
    const ttft = span.attributes["gen_ai.response.time_to_first_chunk"];
    assert.equal(typeof ttft, "number");
  } finally {
    await up.stop();
  }
});

test("the caller aborting its signal mid-stream ('stop generating') is a cancel, a timeout an error", async () => {
  const up = startUpstream();
  try {
    for (const how of ["abort", "timeout"] as const) {
      const p = parentSpan(t, `signal-${how}`);
      const ac = new AbortController();
      const res = await tracedFetch(`${up.origin}/v1/endless`, {
        method: "POST",
        body: "{}",
        signal: how === "abort" ? ac.signal : AbortSignal.timeout(150),
      }, { context: p.ctx });
      const reader = res.body!.getReader();
      let failed: unknown;
      for (let i = 0; i < 100; i++) {
        if (i === 2 && how === "abort") ac.abort();
        const r = await reader.read().catch((e) => (failed = e, undefined));
        if (!r || r.done) break;
      }
      assert.ok(failed, `${how}: the read failed`);
      p.span.end();
      const [span] = await clientChildren(t, p.spanId);
      if (how === "abort") {
        assert.equal(span.status.code, UNSET, span.status.message);
        assert.equal(span.attributes["error.type"], undefined);
        assert.equal(span.attributes["llmtrace.response.cancelled"], true);
        // Not a GenAI path: no finish reason is expected, none is invented.
        assert.equal(
          span.attributes["gen_ai.response.finish_reasons"],
          undefined,
        );
      } else {
        assert.equal(span.status.code, ERROR);
        assert.equal(span.attributes["error.type"], "TimeoutError");
        assert.equal(span.attributes["llmtrace.response.cancelled"], undefined);
      }
    }
  } finally {
    await up.stop();
  }
});
