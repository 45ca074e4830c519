// Section 2b ("paced"): the streamed answer at a token pace to 64 clients,
// direct and behind a router, with and without metrics.
import { DURATION, envNum, results, WARMUP } from "../lib/harness.mjs";
import { delta, f0, f2, f3, max, median, min } from "../lib/stats.mjs";
import { lagCells, metricsLine } from "../lib/report.mjs";
import { streamConfigs, streamSection } from "../lib/streams.mjs";

export const PACED_CLIENTS = envNum("BENCH_PACED_CLIENTS", 64);
export const PACE_MS = envNum("BENCH_PACE_MS", 2);
export const PREFILL_MS = envNum("BENCH_PREFILL_MS", 10);
export const PACED_DURATION = envNum("BENCH_PACED_DURATION", DURATION);
export const PACED_TOKENS = 64; // bench/servers/llm.ts CONTENT_CHUNKS

// Section 2b: the same answer generated at a token pace (PACE_MS between
// content events, PREFILL_MS before the first) to many concurrent clients:
// what a real LLM server sees. The router's upstream is paced too.
export const PACED_OPTS = {
  env: { PACE_MS: String(PACE_MS), PREFILL_MS: String(PREFILL_MS) },
  clients: PACED_CLIENTS,
  duration: PACED_DURATION,
  describe: (j) =>
    `${f0(j.chunksPerSec)} chunks/s ttfb p50 ${f3(j.ttfbP50)} ms stream p50 ${
      f3(j.streamP50)
    } ms errors ${j.errors}`,
};
export async function run(sink) {
  const traces = `http://127.0.0.1:${sink.port}/v1/traces`;
  results.paced = await streamSection("paced", sink, {
    ...PACED_OPTS,
    configs: streamConfigs(traces, { metrics: true }),
  });
}

export function pacedTable(L, configs) {
  L.push(
    "| runtime | config | chunks/s median | min – max | ratio | TTFB p50 ms | Δ ms | TTFB p99 ms | stream p50 ms | Δ ms | stream p99 ms | errors | max loop lag ms | p99 lag ms |",
  );
  L.push(
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const rt of ["deno", "bun"]) {
    const cs = configs.filter((c) => c.rt === rt);
    if (!cs.length) continue;
    for (const c of cs) {
      const base = cs.find((b) => b.router === c.router && !b.env.SINK);
      const bc = median(base.runs.map((r) => r.chunksPerSec));
      const ch = c.runs.map((r) => r.chunksPerSec);
      const tt = median(c.runs.map((r) => r.ttfbP50));
      const bt = median(base.runs.map((r) => r.ttfbP50));
      const sp = median(c.runs.map((r) => r.streamP50));
      const bs = median(base.runs.map((r) => r.streamP50));
      L.push(
        `| ${rt} | ${c.name} | ${f0(median(ch))} | ${f0(min(ch))} – ${
          f0(max(ch))
        } | **${f3(median(ch) / bc)}** | ${f3(tt)} | ${
          delta(c, base, tt, bt)
        } | ${f3(median(c.runs.map((r) => r.ttfbP99)))} | ${f2(sp)} | ${
          delta(c, base, sp, bs)
        } | ${f2(median(c.runs.map((r) => r.streamP99)))} | ${
          c.runs.reduce((a, r) => a + r.errors, 0)
        } | ${lagCells(c)} |`,
      );
    }
  }
  L.push("");
}

export function report(L, { lagText }) {
  if (results.paced) {
    const ideal = PREFILL_MS + (PACED_TOKENS - 1) * PACE_MS;
    L.push(
      `## 2b. Paced streaming: ${PACED_TOKENS} tokens, ${PACE_MS} ms apart, ${PREFILL_MS} ms prefill, ${PACED_CLIENTS} concurrent clients`,
      "",
    );
    L.push(
      `The same OpenAI-compatible answer as section 2, generated at a token pace (first content event ${PREFILL_MS} ms after the response starts, then one every ${PACE_MS} ms with \`setTimeout\`; usage and \`[DONE]\` right after the last token), ${PACED_CLIENTS} concurrent clients (\`bench/sse_load.mjs\`), ${WARMUP} s warm-up + ${PACED_DURATION} s measured. Ideal stream time is ${ideal} ms plus timer slack, so at most ~${
        f0(PACED_CLIENTS * PACED_TOKENS / (ideal / 1000))
      } chunks/s; section 2 measures the per-chunk cost, this one what a real LLM server sees. TTFB is request start → first body bytes (the first token, so it includes the ${PREFILL_MS} ms prefill and any queueing); "stream" is request start → end of stream. Both include the prefill and the pacing. The router's upstream is paced the same way. Ratios and Δ against the untraced server / plain-fetch router of the same runtime.`,
      "",
    );
    L.push(
      `"direct, traceHandler" is initTracer's default: metrics recorded (the server's request duration, TTFT and time per output token histograms), exported every 60 s, so never inside a window; "metrics off" is \`OTEL_METRICS_EXPORTER=none\` (no recording), "+ metrics (OTLP every 1 s)" exports them to the same sink every second. ${lagText()}`,
      "",
    );
    pacedTable(L, results.paced);
    metricsLine(L, results.paced);
  }
}
