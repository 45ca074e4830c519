// Section 2 ("llm"): the streamed chat completion with no delay between its
// 64 SSE chunks, direct and behind a router: the per-chunk cost.
import { BUN, DURATION, envNum, results } from "../lib/harness.mjs";
import { sseLoad } from "../lib/load.mjs";
import { delta, f0, f3, max, median, min } from "../lib/stats.mjs";
import { lagCells } from "../lib/report.mjs";
import { streamSection } from "../lib/streams.mjs";

const SSE_CLIENTS = envNum("BENCH_SSE_CLIENTS", 8);
const TTFB_SECONDS = envNum("BENCH_TTFB_SECONDS", 2);

export async function run(sink) {
  results.llm = await streamSection("llm", sink, {
    clients: SSE_CLIENTS,
    duration: DURATION,
    // TTFB without queueing: one client, same server process.
    async extra(url, j) {
      const j1 = await sseLoad(url, 1, TTFB_SECONDS, 300);
      j.ttfb1P50 = j1.ttfbP50;
      j.ttfb1P99 = j1.ttfbP99;
    },
    describe: (j) =>
      `${f0(j.chunksPerSec)} chunks/s ttfb p50 ${
        f3(j.ttfbP50)
      } ms errors ${j.errors}; 1 client ttfb p50 ${f3(j.ttfb1P50)} ms`,
  });
}

export function report(L, { lagText }) {
  if (results.llm) {
    L.push(
      "## 2. LLM-shaped handler: streamed chat completion, 64 SSE chunks",
      "",
    );
    L.push(
      `\`bench/sse_load.mjs\` (${
        BUN ? "Bun" : "Node"
      } fetch), ${SSE_CLIENTS} concurrent clients each POSTing a \`stream: true\` chat completion and reading it to the end. Chunks/s counts data events (without \`[DONE]\`) received in the window; TTFB is request start → first body bytes; "loaded" is under that saturating load (it includes queueing), "1 client" is a second ${TTFB_SECONDS} s pass against the same server process with one sequential client. The router's upstream is an untraced inference server of the same runtime (pinned with the client). Router ratios are against the plain-fetch router. ${lagText()}`,
      "",
    );
    L.push(
      "| runtime | config | chunks/s median | min – max | ratio | TTFB p50 ms (loaded) | Δ ms | TTFB p99 ms (loaded) | TTFB p50 ms (1 client) | Δ ms | errors | max loop lag ms | p99 lag ms |",
    );
    L.push(
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const rt of ["deno", "bun"]) {
      const cs = results.llm.filter((c) => c.rt === rt);
      if (!cs.length) continue;
      for (const c of cs) {
        const base = cs.find((b) => b.router === c.router && !b.env.SINK);
        const bc = median(base.runs.map((r) => r.chunksPerSec));
        const bt = median(base.runs.map((r) => r.ttfbP50));
        const ch = c.runs.map((r) => r.chunksPerSec);
        const tt = median(c.runs.map((r) => r.ttfbP50));
        const bt1 = median(base.runs.map((r) => r.ttfb1P50));
        const tt1 = median(c.runs.map((r) => r.ttfb1P50));
        L.push(
          `| ${rt} | ${c.name} | ${f0(median(ch))} | ${f0(min(ch))} – ${
            f0(max(ch))
          } | **${f3(median(ch) / bc)}** | ${f3(tt)} | ${
            delta(c, base, tt, bt)
          } | ${f3(median(c.runs.map((r) => r.ttfbP99)))} | ${f3(tt1)} | ${
            delta(c, base, tt1, bt1)
          } | ${c.runs.reduce((a, r) => a + r.errors, 0)} | ${lagCells(c)} |`,
        );
      }
    }
    L.push("");
  }
}
