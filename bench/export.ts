// Export path. PHASE=throughput: end N spans (server-span-like attributes),
// forceFlush, report how long until the sink acknowledged them.
// PHASE=down: the exporter points at a dead loopback port; produce N spans in
// bursts of 1000 (yielding 1 ms between bursts so the batch processor keeps
// trying to export), report peak RSS.
// Prints one JSON line.
import { readFileSync } from "node:fs";
import { env } from "./servers/common.ts";
import { SpanKind } from "@opentelemetry/api";

const { forceFlush, initTracer } = await import(
  env("LLMTRACE_MOD") ?? "../mod.ts"
);

const phase = env("PHASE") ?? "throughput";
const N = Number(env("N") ?? 20000);
const endpoint = env("ENDPOINT")!;
const tracer = await initTracer("bench.export", endpoint, undefined, {
  flushOnExit: false,
});

const attrs = {
  "http.request.method": "POST",
  "url.path": "/v1/chat/completions",
  "url.scheme": "http",
  "server.address": "127.0.0.1",
  "server.port": 8000,
  "http.route": "/v1/chat/completions",
  "gen_ai.operation.name": "chat",
  "gen_ai.request.model": "bench-model",
  "gen_ai.usage.input_tokens": 12,
  "gen_ai.usage.output_tokens": 64,
  "http.response.status_code": 200,
};
function produce(n: number): void {
  for (let i = 0; i < n; i++) {
    tracer.startSpan("POST /v1/chat/completions", {
      kind: SpanKind.SERVER,
      attributes: attrs,
    }).end();
  }
}
function rss(): number {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  return g.Deno ? g.Deno.memoryUsage().rss : g.process.memoryUsage().rss;
}
function hwm(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(
      readFileSync("/proc/self/status", "utf8"),
    );
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (phase === "throughput") {
  const sinkBase = endpoint.replace(/\/v1\/traces$/, "");
  produce(2000); // warm-up
  await forceFlush();
  await fetch(`${sinkBase}/reset`, { method: "POST" }).then((r) =>
    r.body?.cancel()
  );
  // Rounds of one default queue's worth (OTEL_BSP_MAX_QUEUE_SIZE, 2048):
  // end them, forceFlush, repeat; nothing is dropped, and the time covers
  // span.end() up to the sink's 200 for every batch.
  const round = Number(env("OTEL_BSP_MAX_QUEUE_SIZE") ?? 2048);
  let endMs = 0;
  const t0 = performance.now();
  for (let done = 0; done < N; done += round) {
    const a = performance.now();
    produce(Math.min(round, N - done));
    endMs += performance.now() - a;
    await forceFlush();
  }
  const t2 = performance.now();
  const t1 = t0 + endMs;
  const stats = await (await fetch(`${sinkBase}/stats`)).json();
  console.log(JSON.stringify({
    n: N,
    endMs: t1 - t0,
    flushMs: t2 - t0 - endMs,
    totalMs: t2 - t0,
    spansPerSec: N / ((t2 - t0) / 1000),
    endOnlySpansPerSec: N / ((t1 - t0) / 1000),
    delivered: stats.spans,
    bytes: stats.bytes,
    requests: stats.requests,
  }));
} else {
  produce(1000);
  await sleep(50);
  const base = rss();
  let peak = base;
  const t0 = performance.now();
  for (let done = 0; done < N; done += 1000) {
    produce(1000);
    await sleep(1);
    const r = rss();
    if (r > peak) peak = r;
  }
  const t1 = performance.now();
  // let in-flight export attempts fail and retries run for a moment
  for (let i = 0; i < 20; i++) {
    await sleep(50);
    const r = rss();
    if (r > peak) peak = r;
  }
  console.log(JSON.stringify({
    n: N,
    produceMs: t1 - t0,
    baseRss: base,
    peakRss: peak,
    endRss: rss(),
    vmHwm: hwm(),
  }));
}
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
g.Deno ? g.Deno.exit(0) : g.process.exit(0);
