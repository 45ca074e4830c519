// A small SSE load generator: N concurrent clients POST a streaming chat
// completion and read each answer to its end, for a bounded time.
//   bun bench/sse_load.mjs URL CONCURRENCY DURATION_MS WARMUP_MS
// Prints one JSON line: chunks (data events, [DONE] excluded) and streams
// completed inside the measured window, TTFB (request start -> first body
// bytes) and full-stream latency percentiles for requests started inside it.
// Before it, "WINDOW_START" and "WINDOW_END" lines mark when the measured
// window opens and closes (the harness reads the server's loop lag there).
const [url, conc = "8", durMs = "5000", warmMs = "1000"] = process.argv.slice(
  2,
);
const C = Number(conc), D = Number(durMs), W = Number(warmMs);
const body = JSON.stringify({
  model: "bench-model",
  stream: true,
  stream_options: { include_usage: true },
  messages: [{ role: "user", content: "Say something long." }],
});
const t0 = performance.now();
const measureFrom = t0 + W;
const stopAt = measureFrom + D;
let chunks = 0, streams = 0, errors = 0, done = 0;
const ttfb = [], full = [];
setTimeout(() => console.log("WINDOW_START"), W);
setTimeout(() => console.log("WINDOW_END"), W + D);

async function client() {
  while (performance.now() < stopAt) {
    const start = performance.now();
    const inWindow = start >= measureFrom;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const reader = res.body.getReader();
      let first = true, prevLF = false;
      for (;;) {
        const { done: end, value } = await reader.read();
        if (end) break;
        const now = performance.now();
        if (first) {
          first = false;
          if (inWindow && now < stopAt) ttfb.push(now - start);
        }
        // count "\n\n" event ends
        let ev = 0;
        for (let i = 0; i < value.length; i++) {
          if (value[i] === 10) {
            if (prevLF) {
              ev++;
              prevLF = false;
            } else prevLF = true;
          } else prevLF = false;
        }
        if (now >= measureFrom && now < stopAt) chunks += ev;
      }
      const now = performance.now();
      if (now >= measureFrom && now < stopAt) {
        streams++;
        done++; // each stream has exactly one [DONE] event
      }
      if (inWindow && now < stopAt) full.push(now - start);
    } catch {
      errors++;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
const pct = (a, p) => {
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
await Promise.all(Array.from({ length: C }, client));
const secs = D / 1000;
console.log(JSON.stringify({
  chunksPerSec: (chunks - done) / secs,
  streamsPerSec: streams / secs,
  ttfbP50: pct(ttfb, 50),
  ttfbP99: pct(ttfb, 99),
  streamP50: pct(full, 50),
  streamP99: pct(full, 99),
  streamsStarted: full.length,
  errors,
}));
process.exit(0);
