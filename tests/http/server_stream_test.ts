// traceHandler with streamed (SSE) answers, over real servers and fetch, to
// a real OTLP receiver: the span covers the stream to its last chunk, a
// client that leaves cancels span and LLM, a stream that fails ends it with
// ERROR.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { createFakeLlm } from "../support/fake_llm.ts";
import { sleep } from "../support/helpers.ts";
import { withServer } from "../support/servers.ts";
import {
  chatUrl,
  durationNs,
  ERROR,
  MESSAGES,
  newId,
  postJson,
  serverSpanQueries,
  traced,
  UNSET,
} from "./server_support.ts";

let receiver: OtlpReceiver;

useTracing("server-stream-test", (t) => {
  receiver = t.receiver;
});

const { serverSpan } = serverSpanQueries(() => receiver);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads an SSE body to its end, timestamping the last chunk (bounded). */
async function readSse(res: Response) {
  const reader = res.body!.getReader();
  let text = "";
  let lastChunkAt = 0;
  let reads = 0;
  for (; reads < 10_000; reads++) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    lastChunkAt = Date.now();
  }
  const finishedAt = Date.now();
  const events = text.split("\n\n").filter((e) => e.startsWith("data: "))
    .map((e) => e.slice("data: ".length));
  const json = events.filter((e) => e !== "[DONE]").map((e) => JSON.parse(e));
  return { text, events, json, lastChunkAt, finishedAt };
}

test("streamed chat over fetch: span covers the stream to its last chunk", async () => {
  const id = newId("sse-timing");
  const pieces = ["The", " quick", " brown", " fox", " jumps", "."];
  const llm = createFakeLlm({ pieces, delayMs: 25 });
  await withServer(traced(id, llm.handler), async (srv) => {
    const res = await postJson(chatUrl(srv), {
      model: "fake-model",
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.7,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const got = await readSse(res);
    assert.equal(got.events.at(-1), "[DONE]");
    const usage = got.json.at(-1).usage;
    assert.ok(usage, "the last JSON event carries usage");

    const span = await serverSpan(id);
    const a = span.attributes;
    // Ends after the handler's stream closed behind its last chunk (same
    // clock as the span; the client's read time is not: under load it lags
    // the server by whatever the scheduler decides), and lasts at least as
    // long as the LLM took between chunks (1 ms per timer tolerance).
    const record = llm.streams.at(-1)!;
    assert.equal(record.finished, true);
    assert.ok(record.closedAt !== undefined);
    assert.ok(
      span.endTimeUnixNano >=
        BigInt(Math.floor(record.closedAt * 1000)) * 1000n,
      `span ended at ${span.endTimeUnixNano} ns, the stream closed at ${record.closedAt} ms`,
    );
    // And not long before the client finished reading (generous: CI load).
    assert.ok(
      span.endTimeUnixNano <= BigInt(got.lastChunkAt + 1000) * 1_000_000n,
    );
    const timers = got.events.length - 1;
    assert.equal(record.delaysMs, timers * 25);
    assert.ok(
      durationNs(span) >= BigInt(record.delaysMs - timers) * 1_000_000n,
      `duration ${durationNs(span)} ns < ${record.delaysMs} ms of delays`,
    );
    // role + pieces + finish + usage JSON events; [DONE] is not a chunk.
    assert.equal(a["llmtrace.response.chunks"], got.json.length);
    assert.equal(got.json.length, pieces.length + 3);
    assert.equal(a["gen_ai.usage.input_tokens"], usage.prompt_tokens);
    assert.equal(a["gen_ai.usage.output_tokens"], usage.completion_tokens);
    assert.equal(a["gen_ai.usage.prompt_tokens"], usage.prompt_tokens);
    assert.equal(a["gen_ai.usage.completion_tokens"], usage.completion_tokens);
    assert.equal(
      a["gen_ai.usage.cache_read.input_tokens"],
      usage.prompt_tokens_details.cached_tokens,
    );
    assert.equal(a["gen_ai.response.id"], got.json[0].id);
    assert.equal(a["gen_ai.response.model"], got.json[0].model);
    assert.deepEqual(a["gen_ai.response.finish_reasons"], ["stop"]);
    assert.equal(a["gen_ai.request.stream"], true);
    assert.equal(a["gen_ai.request.temperature"], 0.7);
    assert.equal(span.attributeTypes["gen_ai.request.temperature"], "double");
    assert.equal(a["http.response.body.size"], encoder.encode(got.text).length);
    // A SERVER span measures its own first token: vLLM's server-side name;
    // gen_ai.response.time_to_first_chunk is the client's (CLIENT spans).
    const ttft = a["gen_ai.latency.time_to_first_token"] as number;
    assert.equal(
      span.attributeTypes["gen_ai.latency.time_to_first_token"],
      "double",
    );
    assert.equal(a["gen_ai.response.time_to_first_chunk"], undefined);
    // The first content comes after one delay; TTFT fits inside the span.
    assert.ok(ttft >= 0.024, `ttft ${ttft}`);
    assert.ok(ttft <= Number(durationNs(span)) / 1e9);
    assert.equal(span.status.code, UNSET);
    assert.equal(a["error.type"], undefined);
  });
});

// ---------------------------------------------------------------------------
// Cancellation and errors
// ---------------------------------------------------------------------------

for (
  const how of ["AbortController", "reader.cancel()"] as const
) {
  test(`a client that leaves mid-stream (${how}) cancels the span and the LLM`, async () => {
    const id = newId("cancel");
    const llm = createFakeLlm({
      pieces: Array.from({ length: 40 }, (_, i) => `w${i} `),
      delayMs: 30,
    });
    await withServer(traced(id, llm.handler), async (srv) => {
      const ac = new AbortController();
      const res = await postJson(chatUrl(srv), {
        model: "fake-model",
        messages: MESSAGES,
        stream: true,
      }, { signal: ac.signal });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let text = "";
      for (let i = 0; i < 50 && !text.includes("w1 "); i++) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      assert.ok(text.includes("w1 "), "got some content first");
      if (how === "AbortController") {
        ac.abort();
        await reader.read().catch(() => {});
      } else {
        await reader.cancel();
      }

      assert.equal(
        await llm.waitForCancel(0, 8000),
        true,
        "the cancel reached the LLM's stream",
      );
      const span = await serverSpan(id);
      // A client cancel is not a server error (GenAI "Recording Errors").
      assert.equal(span.attributes["error.type"], undefined);
      assert.equal(span.status.code, UNSET);
      assert.equal(span.attributes["llmtrace.response.cancelled"], true);
      assert.deepEqual(span.attributes["gen_ai.response.finish_reasons"], [
        "error",
      ]);
      assert.equal(llm.streams[0].finished, false);
      assert.ok(llm.streams[0].eventsSent < 40, "generation stopped early");
      // What was observed before the cancel is still recorded.
      assert.equal(span.attributes["gen_ai.request.model"], "fake-model");
      assert.equal(
        typeof span.attributes["llmtrace.response.chunks"],
        "number",
      );
      assert.ok(
        (span.attributes["gen_ai.latency.time_to_first_token"] as number) > 0,
      );
    });
  });
}

test("a response stream that fails mid-way ends the span with ERROR", async () => {
  const id = newId("stream-error");
  class UpstreamGone extends Error {
    override name = "UpstreamGone";
  }
  const errors: unknown[] = [];
  await withServer(
    traced(id, () => {
      let n = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          await sleep(5);
          if (n++ < 2) {
            c.enqueue(encoder.encode(
              `data: {"id":"x","choices":[{"index":0,"delta":{"content":"t${n}"}}]}\n\n`,
            ));
          } else c.error(new UpstreamGone("upstream closed"));
        },
      });
      return new Response(body, {
        headers: { "content-type": "text/event-stream" },
      });
    }),
    async (srv) => {
      const res = await postJson(chatUrl(srv), {
        model: "fake-model",
        stream: true,
      });
      assert.equal(res.status, 200);
      let text = "";
      try {
        const reader = res.body!.getReader();
        for (let i = 0; i < 100; i++) {
          const { done, value } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
        }
      } catch (e) {
        errors.push(e); // the runtime may abort the truncated response
      }
      assert.ok(text.includes("t1"), "the first chunks arrived");
    },
    { onError: () => new Response(null, { status: 500 }) },
  );
  const span = await serverSpan(id);
  assert.equal(span.status.code, ERROR);
  assert.equal(span.attributes["error.type"], "UpstreamGone");
  assert.equal(span.attributes["llmtrace.response.chunks"], 2);
  const ev = span.events.find((e) => e.name === "exception");
  assert.equal(ev?.attributes["exception.message"], "upstream closed");
});
