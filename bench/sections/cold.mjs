// Section 3 ("cold"): spawn to first response, and the import and
// initTracer cost inside the process, fresh process per run.
import {
  BUN,
  DENO,
  envNum,
  kill,
  log,
  results,
  startServer,
} from "../lib/harness.mjs";
import { f2, max, median, min } from "../lib/stats.mjs";

const COLD_REPEATS = envNum("BENCH_COLD_REPEATS", 7);

export async function run(sink) {
  const traces = `http://127.0.0.1:${sink.port}/v1/traces`;
  const configs = [];
  for (const rt of ["deno", "bun"]) {
    if (rt === "deno" ? !DENO : !BUN) continue;
    for (const mode of ["bare", "disabled", "enabled"]) {
      configs.push({
        rt,
        name: mode,
        // no lag monitor: nothing to read, and no timer in the start-up
        env: { MODE: mode, SINK: traces, LAG_MONITOR: "0" },
        runs: [],
      });
    }
  }
  const once = async (c) => {
    const t0 = performance.now();
    const srv = await startServer(c.rt, "bench/cold/start.ts", c.env);
    try {
      const res = await fetch(`http://127.0.0.1:${srv.port}/`);
      await res.text();
      const total = performance.now() - t0;
      const times = JSON.parse(/TIMES (\{.*\})/.exec(srv.out)[1]);
      return { total, ...times };
    } finally {
      await kill(srv);
    }
  };
  for (const c of configs) await once(c); // warm the transpile caches, discarded
  for (let rep = 0; rep < COLD_REPEATS; rep++) {
    for (const c of configs) c.runs.push(await once(c));
  }
  for (const c of configs) {
    log(
      `cold ${c.rt} ${c.name}: ${
        f2(median(c.runs.map((r) => r.total)))
      } ms to first response, import ${
        f2(median(c.runs.map((r) => r.importMs)))
      } ms`,
    );
  }
  results.cold = configs;
}

export function report(L) {
  if (results.cold) {
    L.push("## 3. Cold start", "");
    L.push(
      `Fresh process per run (${COLD_REPEATS} runs per config after one discarded warm-up that fills the transpile caches), alternating. "first response" is spawn → first \`GET /\` answered, measured by the harness; "import" is \`await import("mod.ts")\` inside the process; "initTracer" is the SDK load + provider setup.`,
      "",
    );
    L.push(
      "| runtime | config | first response median ms | min – max | Δ vs bare ms | import mod.ts ms (median, min – max) | initTracer ms |",
    );
    L.push("|---|---|---:|---:|---:|---:|---:|");
    for (const rt of ["deno", "bun"]) {
      const cs = results.cold.filter((c) => c.rt === rt);
      if (!cs.length) continue;
      const base = median(cs[0].runs.map((r) => r.total));
      for (const c of cs) {
        const t = c.runs.map((r) => r.total);
        const im = c.runs.map((r) => r.importMs);
        L.push(
          `| ${rt} | ${c.name} | ${f2(median(t))} | ${f2(min(t))} – ${
            f2(max(t))
          } | ${c === cs[0] ? "—" : "+" + f2(median(t) - base)} | ${
            c.name === "bare"
              ? "—"
              : `${f2(median(im))} (${f2(min(im))} – ${f2(max(im))})`
          } | ${
            c.name === "enabled" ? f2(median(c.runs.map((r) => r.initMs))) : "—"
          } |`,
        );
      }
    }
    L.push("");
  }
}
