// Micro-benchmark of the OpenAI stream reader alone: the bench's 64-chunk
// streamed answer (+ usage, [DONE]) pushed chunk by chunk, as the response
// follower does. Prints µs per stream and ns per event.
// `deno run -A bench/sse_reader.ts` / `bun bench/sse_reader.ts`.
import { OpenAIStreamReader } from "../src/genai/openai_stream.ts";

const enc = new TextEncoder();
const chunks: Uint8Array[] = [];
for (let i = 0; i < 64; i++) {
  chunks.push(enc.encode(`data: ${
    JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      created: 1700000000,
      model: "bench-model",
      choices: [{
        index: 0,
        delta: i === 0
          ? { role: "assistant", content: "tok" }
          : { content: ` t${i}` },
        finish_reason: i === 63 ? "stop" : null,
      }],
    })
  }\n\n`));
}
chunks.push(enc.encode(`data: ${
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1700000000,
    model: "bench-model",
    choices: [],
    usage: { prompt_tokens: 12, completion_tokens: 64, total_tokens: 76 },
  })
}\n\n`));
chunks.push(enc.encode("data: [DONE]\n\n"));

function once(): number {
  const r = new OpenAIStreamReader();
  for (const c of chunks) r.push(c);
  r.end();
  return r.info.chunks;
}

const N = 20_000;
for (let i = 0; i < 2_000; i++) once(); // warm up
const results: number[] = [];
for (let round = 0; round < 5; round++) {
  const t0 = performance.now();
  let sink = 0;
  for (let i = 0; i < N; i++) sink += once();
  const us = ((performance.now() - t0) * 1000) / N;
  if (sink !== N * 65) throw new Error(`wrong count ${sink}`);
  results.push(us);
}
results.sort((a, b) => a - b);
const median = results[2];
console.log(
  `${"Deno" in globalThis ? "deno" : "bun"}: ${median.toFixed(2)} µs/stream, ` +
    `${((median * 1000) / chunks.length).toFixed(0)} ns/event (min ${
      results[0].toFixed(2)
    })`,
);
