// Section "steady" (the report's headline): paced OpenAI-compatible streams
// (64 tokens PACE_MS apart after PREFILL_MS) to BENCH_STEADY_CLIENTS (32)
// concurrent clients, a load the server carries, measured once the process
// has warmed up; and the first seconds after start as a separate "cold" row.
// Per round and configuration (untraced, traceHandler, "[alt]" with
// BENCH_ALT_MOD; alternated, BENCH_ROUNDS rounds): a fresh server on the
// server core with its GC log on (Bun: BUN_JSC_logGC=1; Deno:
// --v8-flags=--trace-gc), bench/steady_load.mjs on the client core from the
// moment the server listens. The load generator says when the cold phase
// (BENCH_COLD_S) ends and when the measured window (BENCH_WINDOW_S) opens
// (after BENCH_WARMUP_S, once two 1 s slices agree, at most
// BENCH_WARMUP_MAX_S) and closes; at each the harness reads the server's loop
// lag with SIGUSR2, which also marks the GC log, so the GC figures cover the
// same phases as the client's. Each run's GC lines and marks are kept in
// bench/.tmp/steady/.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ALT,
  BENCH,
  BUN,
  CLIENT_CORE,
  DENO,
  envNum,
  kill,
  lagRead,
  log,
  NODE,
  noteLoad,
  prepareConfigs,
  results,
  start,
  startServer,
  waitLine,
} from "../lib/harness.mjs";
import { GcLog } from "../lib/gc.mjs";
import { sinkReset, sinkStats } from "../lib/load.mjs";
import { f0, f2, max, median, min } from "../lib/stats.mjs";
import { PACE_MS, PACED_TOKENS, PREFILL_MS } from "./paced.mjs";

export const STEADY_CLIENTS = envNum("BENCH_STEADY_CLIENTS", 32);
export const ROUNDS = envNum("BENCH_ROUNDS", 2);
export const WARMUP_S = envNum("BENCH_WARMUP_S", 5);
export const WARMUP_MAX_S = envNum("BENCH_WARMUP_MAX_S", 3 * WARMUP_S);
export const WINDOW_S = envNum("BENCH_WINDOW_S", 20);
export const COLD_S = envNum("BENCH_COLD_S", Math.min(5, WARMUP_S));

function steadyConfigs(traces) {
  const configs = [];
  for (const rt of ["deno", "bun"]) {
    if (rt === "deno" ? !DENO : !BUN) continue;
    configs.push({ rt, name: "untraced", env: { MODE: "untraced" } });
    configs.push({
      rt,
      name: "traceHandler",
      env: { MODE: "traced", SINK: traces },
    });
    if (ALT) {
      configs.push({
        rt,
        name: "traceHandler [alt]",
        env: { MODE: "traced", SINK: traces, LLMTRACE_MOD: ALT },
      });
    }
  }
  return prepareConfigs(configs);
}

// One run: a fresh server and its load, through cold, warm-up and window.
async function once(c, sink, label) {
  const gc = new GcLog(c.rt);
  const env = {
    ...c.env,
    PACE_MS: String(PACE_MS),
    PREFILL_MS: String(PREFILL_MS),
    GC_MARK: "1",
    ...(c.rt === "bun" ? { BUN_JSC_logGC: "1" } : {}),
  };
  const t0 = performance.now();
  let srv;
  let load;
  let guard;
  try {
    srv = await startServer(c.rt, "bench/servers/llm.ts", env, undefined, {
      flags: c.rt === "deno" ? ["--v8-flags=--trace-gc"] : [],
      lineBuffered: c.rt === "deno",
      onLine: gc.onLine,
    });
    const startupMs = performance.now() - t0;
    const url = `http://127.0.0.1:${srv.port}/v1/chat/completions`;
    load = start(CLIENT_CORE, BUN ?? NODE, [
      "bench/steady_load.mjs",
      url,
      String(STEADY_CLIENTS),
      String(COLD_S * 1000),
      String(WARMUP_S * 1000),
      String(WARMUP_MAX_S * 1000),
      String(WINDOW_S * 1000),
      String(PACE_MS),
      String(PREFILL_MS),
    ]);
    guard = setTimeout(
      () => kill(load),
      (WARMUP_MAX_S + WINDOW_S + 30) * 1000,
    );
    // marks 1, 2, 3: GC segment 0 is the cold phase (from the process start),
    // 2 the window
    await waitLine(load, /^COLD_END$/m, COLD_S * 1000 + 20000);
    const coldLag = await lagRead(srv);
    await waitLine(load, /^WINDOW_START$/m, WARMUP_MAX_S * 1000 + 20000);
    await lagRead(srv);
    await sinkReset(sink);
    await waitLine(load, /^WINDOW_END$/m, WINDOW_S * 1000 + 20000);
    const lag = await lagRead(srv);
    const st = await sinkStats(sink);
    await load.exited;
    const j = JSON.parse(load.out.trim().split("\n").pop());
    if (gc.segments.length < 4) {
      throw new Error(
        `${gc.segments.length - 1} of 3 marks seen in the server's GC log`,
      );
    }
    mkdirSync(join(BENCH, ".tmp", "steady"), { recursive: true });
    writeFileSync(
      join(BENCH, ".tmp", "steady", `${label.replace(/\W+/g, "_")}.gc.log`),
      gc.lines.join("\n") + "\n",
    );
    const r = {
      startupMs,
      warmupS: j.warmupS,
      slices: j.slices,
      gcUnparsed: gc.unparsed,
      cold: { ...j.cold, lag: coldLag, gc: gc.summary(0, j.cold.seconds) },
      window: {
        ...j.window,
        lag,
        gc: gc.summary(2, j.window.seconds),
        spans: st.spans,
      },
    };
    const w = r.window;
    log(
      `${label}: warm-up ${f2(r.warmupS)} s; window ${
        f0(w.chunksPerSec)
      } chunks/s, TTFB p99 ${f2(w.ttfbP99)} ms, ITL p50 ${f2(w.itlP50)} p99 ${
        f2(w.itlP99)
      } p99.9 ${f2(w.itlP999)} max ${
        f2(w.itlMax)
      } ms, GC ${w.gc.pauses} pauses max ${f2(w.gc.maxMs)} ms, ${
        f2(w.gc.msPerSec)
      } ms/s, lag max ${
        f2(lag?.max)
      } ms, spans ${w.spans}, errors ${w.errors}; cold ITL p99 ${
        f2(r.cold.itlP99)
      } ms, GC max ${f2(r.cold.gc.maxMs)} ms`,
    );
    return r;
  } finally {
    clearTimeout(guard);
    await kill(load);
    await kill(srv);
  }
}

export async function run(sink) {
  const traces = `http://127.0.0.1:${sink.port}/v1/traces`;
  const configs = steadyConfigs(traces);
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of configs) {
      const label = `steady ${c.rt} ${c.name} #${round + 1}`;
      noteLoad(label);
      try {
        c.runs.push(await once(c, sink, label));
      } catch (e) {
        log(`${label} failed: ${String(e.message ?? e).split("\n")[0]}`);
      }
    }
  }
  results.steady = configs;
}

// Cells: the median over the rounds, and their min – max when there are more.
function cell(values, fmt = f2) {
  const v = values.filter((x) => x != null && Number.isFinite(x));
  if (!v.length) return "n/a";
  if (v.length === 1) return fmt(v[0]);
  return `${fmt(median(v))} (${fmt(min(v))}–${fmt(max(v))})`;
}
const COLUMNS = [
  ["TTFB p50", (p) => p.ttfbP50],
  ["TTFB p99", (p) => p.ttfbP99],
  ["ITL p50", (p) => p.itlP50],
  ["ITL p99", (p) => p.itlP99],
  ["ITL p99.9", (p) => p.itlP999],
  ["ITL max", (p) => p.itlMax],
  ["chunks/s", (p) => p.chunksPerSec, f0],
  ["GC pause max", (p) => p.gc?.maxMs],
  ["GC pause p50", (p) => p.gc?.p50Ms],
  ["GC ms/s", (p) => p.gc?.msPerSec],
  ["max loop lag", (p) => p.lag?.max],
  ["p99 lag", (p) => p.lag?.p99],
];

function phaseTable(L, configs, phase, extra) {
  L.push(
    `| runtime | config | ${COLUMNS.map(([h]) => h).join(" | ")} | ${
      extra[0]
    } |`,
    `|---|---|${COLUMNS.map(() => "---:").join("|")}|---:|`,
  );
  for (const c of configs) {
    const ps = c.runs.map((r) => r[phase]);
    L.push(
      `| ${c.rt} | ${c.name} | ${
        COLUMNS.map(([, get, fmt]) => cell(ps.map(get), fmt)).join(" | ")
      } | ${extra[1](c)} |`,
    );
  }
  L.push("");
}

// The issue's goals, per traced config against the untraced one of its
// runtime: medians over the rounds.
function goalsTable(L, configs) {
  L.push(
    "| runtime | config | ITL p99 Δ ms (goal ≤ +0.5) | TTFB p99 Δ ms (≤ +1) | GC pause max Δ ms (≤ +0.5) | GC time × (≤ 1.5) | chunks/s × (≥ 0.99) |",
    "|---|---|---:|---:|---:|---:|---:|",
  );
  const med = (c, get) => median(c.runs.map((r) => get(r.window)));
  const d = (a, b) => (a - b >= 0 ? "+" : "") + f2(a - b);
  for (const c of configs) {
    const base = configs.find((b) => b.rt === c.rt && !b.env.SINK);
    if (!base || base === c) continue;
    const m = (get) => [med(c, get), med(base, get)];
    const [ip, bip] = m((w) => w.itlP99);
    const [tp, btp] = m((w) => w.ttfbP99);
    const [gm, bgm] = m((w) => w.gc?.maxMs);
    const [gt, bgt] = m((w) => w.gc?.msPerSec);
    const [ch, bch] = m((w) => w.chunksPerSec);
    L.push(
      `| ${c.rt} | ${c.name} | ${d(ip, bip)} | ${d(tp, btp)} | ${
        d(gm, bgm)
      } | ${f2(gt / bgt)} | ${(ch / bch).toFixed(3)} |`,
    );
  }
  L.push("");
}

export function report(L) {
  const configs = results.steady;
  if (!configs) return;
  const ideal = PREFILL_MS + (PACED_TOKENS - 1) * PACE_MS;
  L.push(
    `## Steady-state streams: ${STEADY_CLIENTS} paced clients (headline)`,
    "",
    `A paced OpenAI-compatible stream (${PACED_TOKENS} tokens ${PACE_MS} ms apart after a ${PREFILL_MS} ms prefill: ${ideal} ms per stream at best), ${STEADY_CLIENTS} concurrent clients (\`bench/steady_load.mjs\`: fetch and a reader counting SSE events, started spread over one stream time), the server pinned to its core, load and OTLP sink on the other; untraced and traced alternating, ${ROUNDS} round${
      ROUNDS === 1 ? "" : "s"
    }, a fresh server per run. Each run: the first ${COLD_S} s after the server listens are the **cold** phase; the warm-up lasts at least ${WARMUP_S} s and until two consecutive 1 s slices agree (chunks/s within 2%, ITL p99 within 10% or 0.2 ms), at most ${WARMUP_MAX_S} s; then ${WINDOW_S} s are measured.`,
    "",
    "TTFB: request start → first body bytes (the first token: it includes the prefill and any queueing). ITL: the gap between a content event's arrival at the client and the previous one's in the same stream (63 per stream; events that arrive in one read count 0). Chunks/s: data events without `[DONE]`. GC: the server's own log over the same phase (Bun `BUN_JSC_logGC=1`: each stop-the-world pause `p=`; Deno `--v8-flags=--trace-gc`: each collection's pause; a Mark-Compact's incremental marking steps count in GC time and its biggest step in the max pause), cut at marks the harness makes when the load generator says the phase starts and ends (the SIGUSR2 that reads the loop lag); the cold phase's GC includes the start-up before the server listened. Loop lag: the server's 1 ms timer (see section 1). Cells: median over the rounds (min–max).",
    "",
    `**Steady state** (${WINDOW_S} s window after the warm-up):`,
    "",
  );
  const spans = (c) =>
    cell(
      c.runs.map((r) => r.window.spans / (r.window.streamsPerSec * WINDOW_S)),
    );
  phaseTable(L, configs, "window", [
    "warm-up s",
    (c) => cell(c.runs.map((r) => r.warmupS), f2),
  ]);
  L.push(
    "Traced against untraced (medians; issue 23's goals in the headers):",
    "",
  );
  goalsTable(L, configs);
  L.push(
    `Spans the sink received per stream completed in the window: ${
      configs.filter((c) => c.env.SINK).map((c) =>
        `${c.rt} ${c.name} ${spans(c)}`
      ).join(", ")
    } (batches go out every 5 s, so a window's count lags its streams a little).`,
    "",
  );
  L.push(
    `**Cold** (the first ${COLD_S} s after the server listens, same load):`,
    "",
  );
  phaseTable(L, configs, "cold", [
    "spawn → listen ms",
    (c) => cell(c.runs.map((r) => r.startupMs), f0),
  ]);
  const unparsed = configs.flatMap((c) => c.runs).reduce(
    (a, r) => a + (r.gcUnparsed ?? 0),
    0,
  );
  if (unparsed) {
    L.push(`(${unparsed} GC log lines were not understood and left out.)`, "");
  }
}
