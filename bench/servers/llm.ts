// An OpenAI-compatible streaming chat completion: 64 small SSE data events
// (no delay between them), then a usage event and [DONE].
// PACE_MS=2 PREFILL_MS=10 (section 2b, "paced"): the same events generated at
// a token pace, like a real inference server: the first content event after
// PREFILL_MS, each next one PACE_MS later (headers go out at once).
// MODE=untraced | traced            : the inference server itself
// MODE=router | router-traced       : a router forwarding to UPSTREAM
//   (plain fetch, or traceHandler + tracedFetch)
import { env, type Handler, listen } from "./common.ts";
import {
  chunkEvent,
  DONE_EVENT,
  SSE_HEADERS,
  wireUsage,
} from "../../tests/support/openai_wire.ts";

export const CONTENT_CHUNKS = 64;
// Encoded once at start: the bench measures the server, not JSON.stringify.
const enc = new TextEncoder();
const answer = {
  id: "chatcmpl-bench",
  created: 1700000000,
  model: "bench-model",
};
const chunks: Uint8Array[] = [];
for (let i = 0; i < CONTENT_CHUNKS; i++) {
  const last = i === CONTENT_CHUNKS - 1;
  chunks.push(enc.encode(chunkEvent(answer, [{
    index: 0,
    delta: i === 0
      ? { role: "assistant", content: "tok" }
      : { content: ` t${i}` },
    finish_reason: last ? "stop" : null,
  }])));
}
chunks.push(
  enc.encode(chunkEvent(answer, [], wireUsage(12, CONTENT_CHUNKS))),
);
chunks.push(enc.encode(DONE_EVENT));

const PACE_MS = Number(env("PACE_MS") ?? 0);
const PREFILL_MS = Number(env("PREFILL_MS") ?? 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const inference: Handler = async (req) => {
  await req.text();
  let i = 0;
  const body = new ReadableStream<Uint8Array>(
    PACE_MS > 0 || PREFILL_MS > 0
      ? {
        async pull(c) {
          // content events are paced; the usage event and [DONE] follow the
          // last token at once
          if (i < CONTENT_CHUNKS) await sleep(i === 0 ? PREFILL_MS : PACE_MS);
          if (i < chunks.length) c.enqueue(chunks[i++]);
          else c.close();
        },
      }
      : {
        pull(c) {
          if (i < chunks.length) c.enqueue(chunks[i++]);
          else c.close();
        },
      },
    { highWaterMark: 0 },
  );
  return new Response(body, { headers: SSE_HEADERS });
};

const mode = env("MODE") ?? "untraced";
let handler: Handler;
if (mode === "untraced") handler = inference;
else if (mode === "router") {
  const upstream = env("UPSTREAM")!;
  handler = async (req) => {
    const body = await req.text();
    return await fetch(`${upstream}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
  };
} else {
  const m = await import(env("LLMTRACE_MOD") ?? "../../mod.ts");
  await m.initTracer("bench.llm", env("SINK"), undefined, {
    flushOnExit: false,
  });
  if (mode === "traced") {
    handler = m.traceHandler(inference, {
      route: "/v1/chat/completions",
      providerName: "bench",
    });
  } else if (mode === "router-traced") {
    const upstream = env("UPSTREAM")!;
    handler = m.traceHandler(async (req: Request) => {
      const body = await req.text();
      return await m.tracedFetch(`${upstream}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }, { request: req, providerName: "vllm" });
    }, { route: "/v1/chat/completions", providerName: "llmtrace-router" });
  } else throw new Error(`unknown MODE ${mode}`);
}
listen(handler);
