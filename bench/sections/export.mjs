// Section 4 ("export"): bench/export.ts's span export throughput to the sink,
// and its memory with the collector down.
import {
  BUN,
  deadPort,
  DENO,
  log,
  REPEATS,
  results,
  run as runProcess,
  runtimeArgs,
  SERVER_CORE,
} from "../lib/harness.mjs";
import { f0, max, mb, median, min } from "../lib/stats.mjs";

export async function run(sink) {
  const traces = `http://127.0.0.1:${sink.port}/v1/traces`;
  const out = { throughput: [], down: [] };
  const dead = await deadPort();
  for (const rt of ["deno", "bun"]) {
    if (rt === "deno" ? !DENO : !BUN) continue;
    const [cmd, args] = runtimeArgs(rt, "bench/export.ts");
    const tp = { rt, runs: [] };
    for (let rep = 0; rep < REPEATS; rep++) {
      const r = await runProcess(SERVER_CORE, cmd, args, {
        PHASE: "throughput",
        N: "20000",
        ENDPOINT: traces,
      }, 60000);
      try {
        tp.runs.push(JSON.parse(r.out.trim().split("\n").pop()));
      } catch {
        log(`export ${rt} failed: ${r.err.slice(0, 500)}`);
      }
    }
    out.throughput.push(tp);
    for (const n of [20000, 200000, 400000]) {
      const d = { rt, n, runs: [] };
      for (let rep = 0; rep < Math.min(REPEATS, 2); rep++) {
        const r = await runProcess(SERVER_CORE, cmd, args, {
          PHASE: "down",
          N: String(n),
          ENDPOINT: `http://127.0.0.1:${dead}/v1/traces`,
        }, 90000);
        try {
          d.runs.push({
            ...JSON.parse(r.out.trim().split("\n").pop()),
            errLines: r.errLines,
          });
        } catch {
          log(`export-down ${rt} failed: ${r.err.slice(0, 500)}`);
        }
      }
      out.down.push(d);
    }
    log(
      `export ${rt}: ${f0(median(tp.runs.map((r) => r.spansPerSec)))} spans/s`,
    );
  }
  results.export = out;
}

export function report(L) {
  if (results.export) {
    L.push("## 4. Export path", "");
    L.push(
      "Throughput: 20,000 SERVER spans with 11 attributes, ended in rounds of 2,048 (the default queue), `forceFlush()` after each round; the clock stops when the sink has answered every batch. Default batch processor and exporter settings.",
      "",
    );
    L.push(
      "| runtime | spans/s end → acked (median) | min – max | span.end() only spans/s | delivered / ended | OTLP bytes per span |",
    );
    L.push("|---|---:|---:|---:|---:|---:|");
    for (const t of results.export.throughput) {
      const s = t.runs.map((r) => r.spansPerSec);
      L.push(
        `| ${t.rt} | ${f0(median(s))} | ${f0(min(s))} – ${f0(max(s))} | ${
          f0(median(t.runs.map((r) => r.endOnlySpansPerSec)))
        } | ${t.runs.map((r) => `${r.delivered}/${r.n}`).join(", ")} | ${
          f0(median(t.runs.map((r) => r.bytes / r.delivered)))
        } |`,
      );
    }
    L.push("");
    L.push(
      "Collector down: the exporter points at a dead loopback port for the whole run; spans are produced in bursts of 1,000 with a 1 ms pause (so the processor keeps exporting and failing), then 1 s more. RSS sampled after each burst; VmHWM is the kernel's peak.",
      "",
    );
    L.push(
      "| runtime | spans | RSS after init MB | peak RSS MB | RSS at end MB | VmHWM MB | produce time ms | stderr lines logged |",
    );
    L.push("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (const d of results.export.down) {
      L.push(
        `| ${d.rt} | ${f0(d.n)} | ${
          mb(median(d.runs.map((r) => r.baseRss)))
        } | ${mb(median(d.runs.map((r) => r.peakRss)))} (max ${
          mb(max(d.runs.map((r) => r.peakRss)))
        }) | ${mb(median(d.runs.map((r) => r.endRss)))} | ${
          mb(median(d.runs.map((r) => r.vmHwm)))
        } | ${f0(median(d.runs.map((r) => r.produceMs)))} | ${
          f0(median(d.runs.map((r) => r.errLines)))
        } |`,
      );
    }
    L.push("");
  }
}
