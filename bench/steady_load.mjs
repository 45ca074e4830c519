// The steady section's load generator: C concurrent clients POST a streaming
// chat completion, read each answer to its end and start the next, until the
// measured window closes. Light on purpose (it shares a core with the OTLP
// sink): fetch and a reader that counts SSE events; latencies go into fixed
// histograms, nothing per event is kept.
//   bun bench/steady_load.mjs URL CLIENTS COLD_MS WARMUP_MS WARMUP_MAX_MS WINDOW_MS
// Phases, from the start: "cold" (the first COLD_MS); the warm-up, at least
// WARMUP_MS and until two consecutive 1 s slices agree (chunks/s within 2%,
// ITL p99 within 10% or 0.2 ms), at most WARMUP_MAX_MS; then the measured
// window, WINDOW_MS. Prints "COLD_END", "WINDOW_START" and "WINDOW_END" on
// stdout as they pass (the harness marks the server's lag and GC logs
// there), then one JSON line: per phase (cold, window) TTFB (request start to
// first body bytes) and ITL (the gap between a content event's arrival and
// the previous one's, in the same stream; events that arrive in one read
// count 0) percentiles, chunks/s (data events without [DONE]), streams/s,
// errors; and the warm-up's length and 1 s slices.
// Clients start spread over one ideal stream time, so the load is even from
// the first second rather than 32 streams in lockstep.
const [url, conc, coldMs, warmMs, warmMaxMs, windowMs, paceMs, prefillMs] =
  process.argv.slice(2).map((a, i) => (i === 0 ? a : Number(a)));
const TOKENS = 64; // bench/servers/llm.ts CONTENT_CHUNKS
const EVENTS = TOKENS + 1; // + the usage event; [DONE] is not counted
const body = JSON.stringify({
  model: "bench-model",
  stream: true,
  stream_options: { include_usage: true },
  messages: [{ role: "user", content: "Say something long." }],
});

// 10 µs buckets to 100 ms, then 1 ms buckets to 10 s; the max is exact.
const FINE = 10000;
const COARSE = 9900;
class Hist {
  b = new Uint32Array(FINE + COARSE);
  n = 0;
  max = 0;
  add(ms) {
    const i = ms < 100
      ? Math.floor(ms * 100)
      : Math.min(FINE + COARSE - 1, FINE + Math.floor(ms - 100));
    this.b[i < 0 ? 0 : i]++;
    this.n++;
    if (ms > this.max) this.max = ms;
  }
  pct(p) {
    if (!this.n) return null;
    const rank = Math.ceil(this.n * p);
    let seen = 0;
    for (let i = 0; i < this.b.length; i++) {
      seen += this.b[i];
      if (seen >= rank) {
        return Math.min(
          i < FINE ? (i + 1) / 100 : 100 + (i - FINE + 1),
          this.max,
        );
      }
    }
    return this.max;
  }
}
function newPhase() {
  return {
    ttfb: new Hist(),
    itl: new Hist(),
    chunks: 0,
    streams: 0,
    errors: 0,
  };
}

const t0 = performance.now();
const coldEnd = t0 + coldMs;
let windowStart = Infinity;
let windowEnd = Infinity;
let stopping = false;
const cold = newPhase();
const win = newPhase();
let slice = newPhase();
const slices = [];
// The phase an event at `now` counts in (undefined: warm-up or after).
const phaseAt = (now) =>
  now < coldEnd
    ? cold
    : now >= windowStart && now < windowEnd
    ? win
    : undefined;

async function client(i) {
  const ideal = prefillMs + (TOKENS - 1) * paceMs;
  await new Promise((r) => setTimeout(r, (ideal * i) / conc));
  while (!stopping) {
    const start = performance.now();
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const reader = res.body.getReader();
      let first = true;
      let ev = 0; // events complete so far
      let prevLF = false;
      let last = 0; // arrival of the previous content event
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const now = performance.now();
        const ph = phaseAt(now);
        if (first) {
          first = false;
          slice.ttfb.add(now - start);
          ph?.ttfb.add(now - start);
        }
        for (let k = 0; k < value.length; k++) {
          if (value[k] !== 10) {
            prevLF = false;
            continue;
          }
          if (!prevLF) {
            prevLF = true;
            continue;
          }
          prevLF = false;
          // an event ended here
          if (ev < EVENTS) {
            slice.chunks++;
            if (ph) ph.chunks++;
          }
          if (ev > 0 && ev < TOKENS) {
            slice.itl.add(now - last);
            ph?.itl.add(now - last);
          }
          if (ev < TOKENS) last = now;
          ev++;
        }
      }
      const ph = phaseAt(performance.now());
      if (ph) ph.streams++;
    } catch {
      const ph = phaseAt(performance.now());
      if (ph) ph.errors++;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const summary = (p, ms) => ({
  seconds: ms / 1000,
  chunksPerSec: p.chunks / (ms / 1000),
  streamsPerSec: p.streams / (ms / 1000),
  ttfbP50: p.ttfb.pct(0.5),
  ttfbP99: p.ttfb.pct(0.99),
  itlP50: p.itl.pct(0.5),
  itlP99: p.itl.pct(0.99),
  itlP999: p.itl.pct(0.999),
  itlMax: p.itl.n ? p.itl.max : null,
  itlN: p.itl.n,
  ttfbN: p.ttfb.n,
  errors: p.errors,
});

const agree = (a, b) =>
  Math.abs(a.chunksPerSec - b.chunksPerSec) <=
    0.02 * Math.max(a.chunksPerSec, b.chunksPerSec) &&
  a.itlP99 !== null && b.itlP99 !== null &&
  Math.abs(a.itlP99 - b.itlP99) <=
    Math.max(0.2, 0.1 * Math.max(a.itlP99, b.itlP99));

setTimeout(() => console.log("COLD_END"), coldMs);
// Timers may fire a little early: a phase boundary due at t passes at t - 50.
const ticker = setInterval(() => {
  const now = performance.now();
  slices.push(summary(slice, 1000));
  slice = newPhase();
  if (windowStart !== Infinity || now < coldEnd) return;
  const elapsed = now - t0;
  const n = slices.length;
  if (
    elapsed >= warmMaxMs - 50 ||
    (elapsed >= warmMs - 50 && n >= 2 && agree(slices[n - 1], slices[n - 2]))
  ) {
    windowStart = now;
    windowEnd = now + windowMs;
    console.log("WINDOW_START");
    setTimeout(() => {
      stopping = true;
      clearInterval(ticker);
      console.log("WINDOW_END");
    }, windowMs);
  }
}, 1000);

await Promise.all(Array.from({ length: conc }, (_, i) => client(i)));
console.log(JSON.stringify({
  cold: summary(cold, coldMs),
  window: summary(win, windowMs),
  warmupS: (windowStart - t0) / 1000,
  slices: slices.map((s) => ({
    chunksPerSec: s.chunksPerSec,
    ttfbP50: s.ttfbP50,
    itlP99: s.itlP99,
  })),
}));
process.exit(0);
