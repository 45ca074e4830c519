// The benchmark harness: `npm run bench` / `deno task bench` / `node bench/run.mjs`.
// Runs every section, alternating configurations (A B C A B C ...), each run
// bounded in time, servers pinned to core 0 and load generators (and the OTLP
// sink, and the router's upstream) to core 1 with taskset when there are >= 2
// cores (BENCH_PIN=0: no pinning for the whole run). Writes bench/LATEST.md:
// bench/RESULTS.md is the curated record (dated runs, history), which a run
// must not overwrite; its sections are copied from LATEST.md by hand.
// Every process it starts is killed by pid.
//
// Layout: bench/lib/ holds the harness (harness.mjs: processes, pinning, lag
// monitor reads, config filter; stats.mjs), the load generators' drivers
// (load.mjs), the streaming sections' shared loop (streams.mjs) and the
// report's frame (report.mjs); bench/sections/<name>.mjs is one section each,
// exporting `run(sink)` and `report(L, ctx)`. This file picks the sections,
// runs them in order, and writes the report.
//
// Every bench server runs an event-loop lag monitor (bench/servers/common.ts):
// the harness reads it with SIGUSR2 at the start and end of each measured
// window, for the "max loop lag" / "p99 lag" columns.
//
// Env knobs: BENCH_REPEATS (3), BENCH_DURATION (5 s), BENCH_WARMUP (1 s),
// BENCH_CONNECTIONS (32, trivial), BENCH_SSE_CLIENTS (8), BENCH_COLD_REPEATS (7),
// BENCH_PACED_CLIENTS (64), BENCH_PACE_MS (2), BENCH_PREFILL_MS (10),
// BENCH_PACED_DURATION (= BENCH_DURATION),
// BENCH_SECTIONS (comma list of steady,trivial,llm,paced,cold,export,bundle,
// the default, plus the opt-in unpinned and outage; "all" = every section),
// BENCH_LOADGEN (wrk | autocannon; default wrk when installed), BENCH_ALT_MOD
// (see bench/lib/harness.mjs), BENCH_MOD, BENCH_OUT (report path),
// BENCH_NOTES (a line added to the report's notes), BENCH_PIN (1; 0 = run
// everything unpinned), BENCH_FILTER (a regex over "runtime config").
// Section "steady" (the headline; bench/sections/steady.mjs): 32 paced
// streams in steady state and cold: BENCH_STEADY_CLIENTS (32), BENCH_ROUNDS
// (2), BENCH_WARMUP_S (5), BENCH_WARMUP_MAX_S (3 × warm-up), BENCH_WINDOW_S
// (20), BENCH_COLD_S (min(5, warm-up)); pace and prefill as "paced". About
// 4 × 30 s a round.
// Section "unpinned": trivial and paced, untraced vs traced, again with no
// process pinned (BENCH_UNPINNED_REPEATS, default min(BENCH_REPEATS, 2)).
// Section "outage": the paced LLM server, traced, exporting to a collector
// that is down, for BENCH_OUTAGE_SECONDS (300) after BENCH_OUTAGE_WARMUP (10 s)
// of load, per runtime and BENCH_OUTAGE_VARIANTS (dead,503; also "ok", a
// healthy sink, as a reference): RSS, stderr lines, export attempts and loop
// lag sampled every BENCH_OUTAGE_SAMPLE (10 s); BENCH_OUTAGE_CLIENTS
// (= BENCH_PACED_CLIENTS). At defaults it takes about 4 × 5.5 min.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ALT,
  AUTOCANNON,
  BENCH,
  BUN,
  busyProcesses,
  children,
  CLIENT_CORE,
  DENO,
  DURATION,
  kill,
  killAllSync,
  LOADGEN,
  loads,
  log,
  NODE,
  PIN,
  results,
  ROOT,
  start,
  version,
  waitLine,
  WARMUP,
  WRK,
} from "./lib/harness.mjs";
import { report } from "./lib/report.mjs";
import { f0 } from "./lib/stats.mjs";
import * as steady from "./sections/steady.mjs";
import * as trivial from "./sections/trivial.mjs";
import * as llm from "./sections/llm.mjs";
import * as paced from "./sections/paced.mjs";
import * as cold from "./sections/cold.mjs";
import * as exportPath from "./sections/export.mjs";
import * as bundle from "./sections/bundle.mjs";
import * as unpinned from "./sections/unpinned.mjs";
import * as outage from "./sections/outage.mjs";

// In run and report order.
const SECTION_LIST = [
  ["steady", steady],
  ["trivial", trivial],
  ["llm", llm],
  ["paced", paced],
  ["cold", cold],
  ["export", exportPath],
  ["bundle", bundle],
  ["unpinned", unpinned],
  ["outage", outage],
];
const ALL_SECTIONS = SECTION_LIST.map(([name]) => name);
const SECTIONS = new Set(
  (process.env.BENCH_SECTIONS ?? "steady,trivial,llm,paced,cold,export,bundle")
    .split(",").flatMap((
      s,
    ) => (s.trim() === "all" ? ALL_SECTIONS : [s.trim()])),
);
const PACED_DURATION = paced.PACED_DURATION;
const UNPINNED_REPEATS = unpinned.UNPINNED_REPEATS;
const { OUTAGE_SECONDS, OUTAGE_VARIANTS, OUTAGE_WARMUP } = outage;

const t0 = Date.now();
const meta = {
  date: new Date().toISOString(),
  cpu:
    (/model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ??
      "?").trim(),
  deno: DENO ? version(DENO, ["--version"]) : "missing",
  bun: BUN ? `bun ${version(BUN, ["--version"])}` : "missing",
  loadgen: LOADGEN === "wrk"
    ? version(WRK, ["-v"])
    : `autocannon ${version(AUTOCANNON, ["--version"])}`,
  busy: [],
  notes: [],
};
meta.busy.push(...busyProcesses().map((b) => `at start: ${b}`));
log(
  `deno ${DENO}, bun ${BUN}, loadgen ${LOADGEN}, pin ${PIN}, sections ${
    [...SECTIONS].join(",")
  }`,
);
let sink;
// 25 min for the default sections, plus what the steady one and the opt-in
// ones take.
const runtimesN = (DENO ? 1 : 0) + (BUN ? 1 : 0);
const limitS = 25 * 60 +
  (SECTIONS.has("steady")
    ? steady.ROUNDS * runtimesN * (ALT ? 3 : 2) *
      (steady.WARMUP_MAX_S + steady.WINDOW_S + 30)
    : 0) +
  (SECTIONS.has("unpinned")
    ? UNPINNED_REPEATS * runtimesN * 2 *
      (WARMUP + DURATION + WARMUP + PACED_DURATION + 10)
    : 0) +
  (SECTIONS.has("outage")
    ? runtimesN * OUTAGE_VARIANTS.length *
      (OUTAGE_WARMUP + OUTAGE_SECONDS + 60)
    : 0);
const hardStop = setTimeout(() => {
  log(`hard time limit (${f0(limitS / 60)} min) reached; killing everything`);
  killAllSync();
  process.exit(2);
}, limitS * 1000);
hardStop.unref();
try {
  const s = start(CLIENT_CORE, NODE, ["bench/sink.mjs"]);
  sink = s;
  s.port = Number((await waitLine(s, /LISTEN (\d+)/))[1]);
  for (const [name, section] of SECTION_LIST) {
    if (!SECTIONS.has(name)) continue;
    log(`section ${name}`);
    try {
      await section.run(sink);
    } catch (e) {
      log(`section ${name} failed: ${e.stack ?? e}`);
      meta.notes.push(
        `Section ${name} failed: ${String(e.message ?? e).split("\n")[0]}`,
      );
    }
  }
} finally {
  await kill(sink);
  for (const c of [...children]) await kill(c);
}
meta.busy.push(...busyProcesses().map((b) => `at end: ${b}`));
meta.wallS = (Date.now() - t0) / 1000;
const extra = process.env.BENCH_NOTES;
if (extra) meta.notes.push(extra);
const md = report(meta, SECTION_LIST.map(([, section]) => section));
const outFile = process.env.BENCH_OUT ?? join(BENCH, "LATEST.md");
writeFileSync(outFile, md + "\n");
// Keep the report as `deno fmt` (the repo's check task) wants it.
if (DENO) {
  spawnSync(DENO, ["fmt", "-q", outFile], { cwd: ROOT, stdio: "ignore" });
}
mkdirSync(join(BENCH, ".tmp"), { recursive: true });
writeFileSync(
  join(BENCH, ".tmp", "results.json"),
  JSON.stringify({ meta, results, loads }, null, 1),
);
log(`wrote ${outFile} in ${f0(meta.wallS)} s`);
clearTimeout(hardStop);
