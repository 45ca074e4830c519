// llmtrace under Node (or Bun) with node:http: a traced OpenAI-style handler
// that answers a chat completion as server-sent events. Run after
// `npm i llmtrace` (or `npm run build` in this repository):
//
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 node examples/node/server.mjs
//
// With SELF_TEST=1 it serves on a free loopback port, sends itself one
// streamed request, flushes the spans, prints a JSON report and exits.
import { createServer } from "node:http";
import { initTracer, shutdownTracing, traceHandler } from "llmtrace";
import { toNodeListener } from "./node_http.mjs";

await initTracer("example.node");

const encoder = new TextEncoder();
const handler = traceHandler(async (req) => {
  const body = await req.json();
  const words = ["Hello", " from", " node:http"];
  const id = "chatcmpl-node-1";
  const event = (choices) =>
    `data: ${
      JSON.stringify({
        id,
        object: "chat.completion.chunk",
        model: body.model,
        choices,
      })
    }\n\n`;
  const events = [
    ...words.map((w) =>
      event([{ index: 0, delta: { content: w }, finish_reason: null }])
    ),
    event([{ index: 0, delta: {}, finish_reason: "stop" }]),
    "data: [DONE]\n\n",
  ];
  let i = 0;
  const stream = new ReadableStream({
    async pull(c) {
      if (i >= events.length) return c.close();
      if (i > 0) await new Promise((r) => setTimeout(r, 10));
      c.enqueue(encoder.encode(events[i++]));
    },
  }, { highWaterMark: 0 });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream" },
  });
}, { route: "/v1/chat/completions", providerName: "example" });

const server = createServer(toNodeListener(handler));
const selfTest = process.env.SELF_TEST === "1";
await new Promise((r) =>
  server.listen(selfTest ? 0 : Number(process.env.PORT ?? 8000), "127.0.0.1", r)
);
const { port } = server.address();

if (selfTest) {
  const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "node-demo",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  const text = await res.text();
  await new Promise((r) => server.close(r));
  // Flushes; a collector that cannot be reached makes it reject.
  await shutdownTracing().catch((e) =>
    console.error(`llmtrace: final export failed: ${e.message}`)
  );
  console.log(JSON.stringify({
    status: res.status,
    events: text.split("\n\n").filter(Boolean).length,
    runtime: globalThis.Bun ? "bun" : "node",
  }));
} else {
  console.log(`listening on http://127.0.0.1:${port}`);
}
