// The benchmark harness: `npm run bench` / `deno task bench` / `node bench/run.mjs`.
// Runs every section, alternating configurations (A B C A B C ...), each run
// bounded in time, servers pinned to core 0 and load generators (and the OTLP
// sink, and the router's upstream) to core 1 with taskset when there are >= 2
// cores (BENCH_PIN=0: no pinning for the whole run). Writes bench/RESULTS.md.
// Every process it starts is killed by pid.
//
// Every bench server runs an event-loop lag monitor (bench/servers/common.ts):
// the harness reads it with SIGUSR2 at the start and end of each measured
// window, for the "max loop lag" / "p99 lag" columns.
//
// Env knobs: BENCH_REPEATS (3), BENCH_DURATION (5 s), BENCH_WARMUP (1 s),
// BENCH_CONNECTIONS (32, trivial), BENCH_SSE_CLIENTS (8), BENCH_COLD_REPEATS (7),
// BENCH_PACED_CLIENTS (64), BENCH_PACE_MS (2), BENCH_PREFILL_MS (10),
// BENCH_PACED_DURATION (= BENCH_DURATION),
// BENCH_SECTIONS (comma list of trivial,llm,paced,cold,export,bundle, the
// default, plus the opt-in unpinned and outage; "all" = every section),
// BENCH_LOADGEN (wrk | autocannon; default wrk when installed), BENCH_ALT_MOD
// (see below), BENCH_OUT (report path), BENCH_NOTES (a line added to the
// report's notes), BENCH_PIN (1; 0 = run everything unpinned).
// Section "unpinned": trivial and paced, untraced vs traced, again with no
// process pinned (BENCH_UNPINNED_REPEATS, default min(BENCH_REPEATS, 2)).
// Section "outage": the paced LLM server, traced, exporting to a collector
// that is down, for BENCH_OUTAGE_SECONDS (300) after BENCH_OUTAGE_WARMUP (10 s)
// of load, per runtime and BENCH_OUTAGE_VARIANTS (dead,503; also "ok", a
// healthy sink, as a reference): RSS, stderr lines, export attempts and loop
// lag sampled every BENCH_OUTAGE_SAMPLE (10 s); BENCH_OUTAGE_CLIENTS
// (= BENCH_PACED_CLIENTS). At defaults it takes about 4 × 5.5 min.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BENCH = join(ROOT, "bench");
const envNum = (k, d) => (process.env[k] ? Number(process.env[k]) : d);
const REPEATS = envNum("BENCH_REPEATS", 3);
const DURATION = envNum("BENCH_DURATION", 5);
const WARMUP = envNum("BENCH_WARMUP", 1);
const CONNS = envNum("BENCH_CONNECTIONS", 32);
const SSE_CLIENTS = envNum("BENCH_SSE_CLIENTS", 8);
const TTFB_SECONDS = envNum("BENCH_TTFB_SECONDS", 2);
const COLD_REPEATS = envNum("BENCH_COLD_REPEATS", 7);
const PACED_CLIENTS = envNum("BENCH_PACED_CLIENTS", 64);
const PACE_MS = envNum("BENCH_PACE_MS", 2);
const PREFILL_MS = envNum("BENCH_PREFILL_MS", 10);
const PACED_DURATION = envNum("BENCH_PACED_DURATION", DURATION);
const PACED_TOKENS = 64; // bench/servers/llm.ts CONTENT_CHUNKS
// BENCH_ALT_MOD=/abs/path/to/other/mod.ts adds "[alt]" traced configs that
// load llmtrace from another tree (A/B of a patch without touching src/).
const ALT = process.env.BENCH_ALT_MOD;
// BENCH_MOD=/abs/path/to/mod.ts benches another tree (e.g. a snapshot of this
// one, so edits made while the bench runs do not mix into its numbers).
const MOD = process.env.BENCH_MOD;
const ALL_SECTIONS = [
  "trivial",
  "llm",
  "paced",
  "cold",
  "export",
  "bundle",
  "unpinned",
  "outage",
];
const SECTIONS = new Set(
  (process.env.BENCH_SECTIONS ?? "trivial,llm,paced,cold,export,bundle")
    .split(",").flatMap((
      s,
    ) => (s.trim() === "all" ? ALL_SECTIONS : [s.trim()])),
);
const UNPINNED_REPEATS = envNum("BENCH_UNPINNED_REPEATS", Math.min(REPEATS, 2));
const OUTAGE_SECONDS = envNum("BENCH_OUTAGE_SECONDS", 300);
const OUTAGE_WARMUP = envNum("BENCH_OUTAGE_WARMUP", 10);
const OUTAGE_SAMPLE = envNum("BENCH_OUTAGE_SAMPLE", 10);
const OUTAGE_CLIENTS = envNum("BENCH_OUTAGE_CLIENTS", PACED_CLIENTS);
const OUTAGE_VARIANTS = (process.env.BENCH_OUTAGE_VARIANTS ?? "dead,503")
  .split(",").map((s) => s.trim()).filter(Boolean);

function which(cmd) {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
function bin(local, name) {
  const p = join(ROOT, local);
  return existsSync(p) ? p : which(name);
}
const DENO = bin("node_modules/deno/deno", "deno");
const BUN = bin("node_modules/bun/bin/bun.exe", "bun");
const NODE = process.execPath.includes("node")
  ? process.execPath
  : which("node");
const WRK = which("wrk");
const AUTOCANNON = bin("node_modules/.bin/autocannon", "autocannon");
const LOADGEN = process.env.BENCH_LOADGEN ?? (WRK ? "wrk" : "autocannon");
const TASKSET = which("taskset");
const CAN_PIN = Boolean(TASKSET && cpus().length >= 2);
const PIN = CAN_PIN && process.env.BENCH_PIN !== "0";
// Whether start() pins now: PIN, except while the unpinned section runs.
let pinning = PIN;
// Other work on the machine (test suites) competes for both cores: as root,
// run the bench's processes at a higher priority (BENCH_NICE=0 to disable).
const NICE_LEVEL = envNum("BENCH_NICE", -10);
const NICE = NICE_LEVEL !== 0 && process.getuid?.() === 0
  ? which("nice")
  : undefined;
const SERVER_CORE = "0";
const CLIENT_CORE = String(Math.min(1, cpus().length - 1));

// ---------------------------------------------------------------- processes
const children = new Set();
function start(core, cmd, args, env = {}, opts = {}) {
  let full = pinning && core !== undefined
    ? [TASKSET, ["-c", core, cmd, ...args]]
    : [cmd, args];
  if (NICE) full = [NICE, ["-n", String(NICE_LEVEL), full[0], ...full[1]]];
  const child = spawn(full[0], full[1], {
    cwd: ROOT,
    env: {
      ...process.env,
      NO_COLOR: "1",
      ...(MOD ? { LLMTRACE_MOD: MOD } : {}),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    ...opts,
  });
  child.out = "";
  child.err = "";
  child.stdout.on("data", (d) => (child.out += d));
  child.errLines = 0;
  child.stderr.on("data", (d) => {
    for (const b of d) if (b === 10) child.errLines++;
    if (child.err.length < 20000) child.err += d;
  });
  child.exited = new Promise((r) => child.on("exit", (code) => r(code)));
  children.add(child);
  child.exited.then(() => children.delete(child));
  return child;
}
async function kill(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, "SIGTERM");
  } catch { /* gone */ }
  const t = setTimeout(() => {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch { /* gone */ }
  }, 2000);
  await child.exited;
  clearTimeout(t);
}
function killAllSync() {
  for (const c of children) {
    try {
      process.kill(c.pid, "SIGKILL");
    } catch { /* gone */ }
  }
}
process.on("exit", killAllSync);
for (const s of ["SIGINT", "SIGTERM"]) {
  process.on(s, () => {
    killAllSync();
    process.exit(130);
  });
}
function waitLine(child, re, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `timeout waiting for ${re} from ${
            child.spawnargs.join(" ")
          }\n${child.err}`,
        ),
      );
    }, timeoutMs);
    const check = () => {
      const m = re.exec(child.out);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = () => {
      cleanup();
      reject(
        new Error(
          `exited before ${re}: ${child.spawnargs.join(" ")}\n${child.err}`,
        ),
      );
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off("data", check);
      child.off("exit", onExit);
    };
    child.stdout.on("data", check);
    child.on("exit", onExit);
    check();
  });
}
async function run(core, cmd, args, env = {}, timeoutMs = 60000) {
  const c = start(core, cmd, args, env);
  const t = setTimeout(() => kill(c), timeoutMs);
  const code = await c.exited;
  clearTimeout(t);
  return { code, out: c.out, err: c.err, errLines: c.errLines };
}
function runtimeArgs(rt, script) {
  return rt === "deno" ? [DENO, ["run", "-A", script]] : [BUN, [script]];
}
async function startServer(rt, script, env, core = SERVER_CORE) {
  const [cmd, args] = runtimeArgs(rt, script);
  const c = start(core, cmd, args, env);
  const m = await waitLine(c, /LISTEN (\d+)/);
  c.port = Number(m[1]);
  // listen() has installed the lag monitor's SIGUSR2 listener by now (only
  // then may the harness signal it: SIGUSR2's default action is to exit).
  c.lagMonitor = env.LAG_MONITOR !== "0";
  c.lagSeq = 0;
  return c;
}
// Reads the server's event-loop lag since the previous read (and starts a new
// interval): SIGUSR2, answered with "LAG <seq> {n, p50, p99, max}" on stdout.
// undefined when the server has no monitor or does not answer in time.
async function lagRead(srv, timeoutMs = 5000) {
  if (!srv?.lagMonitor || srv.exitCode !== null || srv.signalCode !== null) {
    return undefined;
  }
  const seq = ++srv.lagSeq;
  try {
    process.kill(srv.pid, "SIGUSR2");
    const m = await waitLine(
      srv,
      new RegExp(`^LAG ${seq} (\\{.*\\})$`, "m"),
      timeoutMs,
    );
    return JSON.parse(m[1]);
  } catch (e) {
    log(`lag read #${seq} failed: ${String(e.message ?? e).split("\n")[0]}`);
    return undefined;
  }
}
function deadPort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

// ---------------------------------------------------------------- stats
const median = (a) => {
  const s = a.filter((x) => x != null && !Number.isNaN(x)).sort((x, y) =>
    x - y
  );
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const min = (a) => Math.min(...a.filter((x) => x != null));
const max = (a) => Math.max(...a.filter((x) => x != null));
const f0 = (
  x,
) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
// A Δ cell: "—" on the baseline row itself, else the signed difference.
const delta = (c, base, a, b) =>
  c === base ? "—" : (a - b >= 0 ? "+" : "") + f3(a - b);
const mb = (x) => (Number.isFinite(x) ? (x / 1048576).toFixed(1) : "n/a");
const kb = (x) => (x / 1024).toFixed(1);

const loads = [];
function noteLoad(label) {
  loads.push({ label, load1: loadavg()[0] });
}
function busyProcesses() {
  try {
    const out = execFileSync("ps", [
      "-eo",
      "pid,pcpu,etime,comm",
      "--sort=-pcpu",
    ], {
      encoding: "utf8",
    });
    const mine = new Set([...children].map((c) => String(c.pid)));
    mine.add(String(process.pid));
    return out.trim().split("\n").slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter(([pid, pcpu]) => !mine.has(pid) && Number(pcpu) >= 5)
      .slice(0, 6)
      .map(([pid, pcpu, etime, comm]) =>
        `${comm} (pid ${pid}, ${pcpu}% avg CPU, up ${etime})`
      );
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- load generators
function parseWrkLatency(s) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
}
async function httpLoad(port, seconds) {
  const url = `http://127.0.0.1:${port}/`;
  if (LOADGEN === "wrk") {
    const r = await run(
      CLIENT_CORE,
      WRK,
      [
        "-t1",
        `-c${CONNS}`,
        `-d${seconds}s`,
        "--latency",
        "--timeout",
        "5s",
        url,
      ],
      {},
      (seconds + 15) * 1000,
    );
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.out)?.[1]);
    const p50 = parseWrkLatency(/^\s+50%\s+(\S+)/m.exec(r.out)?.[1] ?? "");
    const p99 = parseWrkLatency(/^\s+99%\s+(\S+)/m.exec(r.out)?.[1] ?? "");
    const errors = /Non-2xx or 3xx responses: (\d+)/.exec(r.out)?.[1] ??
      /Socket errors: (.*)/.exec(r.out)?.[1];
    return { rps, p50, p99, errors: errors ?? null };
  }
  const r = await run(
    CLIENT_CORE,
    AUTOCANNON,
    [
      "-c",
      String(CONNS),
      "-d",
      String(seconds),
      "-j",
      url,
    ],
    {},
    (seconds + 20) * 1000,
  );
  const j = JSON.parse(r.out);
  return {
    rps: j.requests.total / j.duration,
    p50: j.latency.p50,
    p99: j.latency.p99,
    errors: j.errors || j.non2xx || null,
  };
}
async function sinkStats(sink) {
  return await (await fetch(`http://127.0.0.1:${sink.port}/stats`)).json();
}
async function sinkReset(sink) {
  await (await fetch(`http://127.0.0.1:${sink.port}/reset`, { method: "POST" }))
    .text();
}

// BENCH_FILTER=regex keeps only the configs whose "runtime name" matches
// (baselines are always kept, so ratios stay defined).
function filterConfigs(configs) {
  const f = process.env.BENCH_FILTER;
  if (!f) return;
  const re = new RegExp(f);
  const keep = configs.filter((c) =>
    re.test(`${c.rt} ${c.name}`) ||
    !c.env.SINK && !c.env.OTEL_DENO && c.env.MODE !== "disabled"
  );
  configs.splice(0, configs.length, ...keep);
}

// ---------------------------------------------------------------- sections
const results = {};
const log = (...a) =>
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

// The configurations of section 1 (and, `only` some of them, of the
// unpinned section).
function trivialConfigs(traces, sinkPort, only) {
  const configs = [];
  for (const rt of ["deno", "bun"]) {
    if (rt === "deno" ? !DENO : !BUN) continue;
    configs.push({ rt, name: "untraced", env: { MODE: "untraced" } });
    configs.push({
      rt,
      name: "traceHandler, tracing off",
      env: { MODE: "disabled" },
    });
    configs.push({
      rt,
      name: "traceHandler + initTracer",
      env: { MODE: "traced", SINK: traces },
    });
    // initTracer starts metrics too (OTLP every 60 s by default, so no
    // export falls inside a measured window): here every second.
    configs.push({
      rt,
      name: "traceHandler + initTracer + metrics (OTLP every 1 s)",
      env: { MODE: "traced", SINK: traces, ...METRICS_EVERY_1S },
    });
    // Anchor: the official web SDK by hand (bench/servers/trivial.ts MODE=sdk),
    // same BatchSpanProcessor + OTLP exporter, same sink URL.
    configs.push({
      rt,
      name: "web SDK by hand (3 attributes), no traceHandler",
      env: { MODE: "sdk", SINK: traces },
    });
    configs.push({
      rt,
      name: "web SDK by hand, traceHandler's 8 attributes",
      env: { MODE: "sdk-full", SINK: traces },
    });
    if (ALT) {
      configs.push({
        rt,
        name: "traceHandler, tracing off [alt]",
        env: { MODE: "disabled", LLMTRACE_MOD: ALT },
      });
      configs.push({
        rt,
        name: "traceHandler + initTracer [alt]",
        env: { MODE: "traced", SINK: traces, LLMTRACE_MOD: ALT },
      });
    }
    if (rt === "deno") {
      configs.push({
        rt,
        name: "OTEL_DENO=true (built-in), untraced handler",
        env: {
          MODE: "untraced",
          OTEL_DENO: "true",
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
          OTEL_SERVICE_NAME: "bench.deno-otel",
        },
      });
    }
  }
  if (only) {
    configs.splice(
      0,
      configs.length,
      ...configs.filter((c) => only.includes(c.name)),
    );
  }
  filterConfigs(configs);
  for (const c of configs) c.runs = [];
  return configs;
}
// What the "+ metrics" rows add: OTLP metrics to the same sink (initTracer
// derives …/v1/metrics from the traces URL), exported every second.
const METRICS_EVERY_1S = {
  OTEL_METRICS_EXPORTER: "otlp",
  OTEL_METRIC_EXPORT_INTERVAL: "1000",
};
const metricPosts = (st) => st.byPath?.["/v1/metrics"] ?? 0;

// Per repeat and config: a fresh server, a warm-up, a lag read (discarded:
// it opens the window), the measured load, a lag read.
async function trivialRuns(label, configs, sink, repeats) {
  for (let rep = 0; rep < repeats; rep++) {
    for (const c of configs) {
      noteLoad(`${label} ${c.rt} ${c.name} #${rep + 1}`);
      const srv = await startServer(c.rt, "bench/servers/trivial.ts", c.env);
      try {
        await httpLoad(srv.port, WARMUP);
        await sinkReset(sink);
        await lagRead(srv);
        const r = await httpLoad(srv.port, DURATION);
        r.lag = await lagRead(srv);
        const st = await sinkStats(sink);
        r.spans = st.spans;
        r.metricPosts = metricPosts(st);
        r.coverage = st.spans / (r.rps * DURATION);
        c.runs.push(r);
        log(
          `${label} ${c.rt} ${c.name} #${rep + 1}: ${f0(r.rps)} req/s p50 ${
            f3(r.p50)
          } ms p99 ${
            f3(r.p99)
          } ms spans ${st.spans} metric posts ${r.metricPosts} lag max ${
            f3(r.lag?.max)
          } p99 ${f3(r.lag?.p99)} ms`,
        );
      } finally {
        await kill(srv);
      }
    }
  }
  return configs;
}

async function trivial(sink) {
  const traces = `http://127.0.0.1:${sink.port}/v1/traces`;
  results.trivial = await trivialRuns(
    "trivial",
    trivialConfigs(traces, sink.port),
    sink,
    REPEATS,
  );
}

// The streaming configurations of sections 2 and 2b: per runtime, the server
// direct (untraced, traceHandler) and behind a router (plain fetch,
// traceHandler + tracedFetch), plus "[alt]" rows with BENCH_ALT_MOD.
// `metrics`: the direct traced server also with metrics off and with metrics
// exported every second (section 2b); `only`: just the configs so named.
function streamConfigs(traces, { metrics = false, only } = {}) {
  const configs = [];
  for (const rt of ["deno", "bun"]) {
    if (rt === "deno" ? !DENO : !BUN) continue;
    configs.push({ rt, name: "direct, untraced", env: { MODE: "untraced" } });
    configs.push({
      rt,
      name: "direct, traceHandler",
      env: { MODE: "traced", SINK: traces },
    });
    if (metrics) {
      configs.push({
        rt,
        name: "direct, traceHandler, metrics off",
        env: { MODE: "traced", SINK: traces, OTEL_METRICS_EXPORTER: "none" },
      });
      configs.push({
        rt,
        name: "direct, traceHandler + metrics (OTLP every 1 s)",
        env: { MODE: "traced", SINK: traces, ...METRICS_EVERY_1S },
      });
    }
    if (ALT) {
      configs.push({
        rt,
        name: "direct, traceHandler [alt]",
        env: { MODE: "traced", SINK: traces, LLMTRACE_MOD: ALT },
      });
    }
    configs.push({
      rt,
      name: "router, plain fetch",
      env: { MODE: "router" },
      router: true,
    });
    configs.push({
      rt,
      name: "router, traceHandler + tracedFetch",
      env: { MODE: "router-traced", SINK: traces },
      router: true,
    });
    if (ALT) {
      configs.push({
        rt,
        name: "router, traceHandler + tracedFetch [alt]",
        env: { MODE: "router-traced", SINK: traces, LLMTRACE_MOD: ALT },
        router: true,
      });
    }
  }
  if (only) {
    configs.splice(
      0,
      configs.length,
      ...configs.filter((c) => only.includes(c.name)),
    );
  }
  filterConfigs(configs);
  for (const c of configs) c.runs = [];
  return configs;
}

// Starts the server of a streaming configuration (and, for a router, its
// untraced upstream on the client core); `extra` (pacing) goes to whichever
// generates the answer.
async function startStream(c, extra = {}) {
  const env = { ...c.env };
  let upstream;
  if (c.router) {
    upstream = await startServer(c.rt, "bench/servers/llm.ts", {
      MODE: "untraced",
      ...extra,
    }, CLIENT_CORE);
    env.UPSTREAM = `http://127.0.0.1:${upstream.port}`;
  } else Object.assign(env, extra);
  const srv = await startServer(c.rt, "bench/servers/llm.ts", env);
  return {
    srv,
    upstream,
    url: `http://127.0.0.1:${srv.port}/v1/chat/completions`,
  };
}

// Runs bench/sse_load.mjs on the client core and returns its JSON report.
// With `srv`, the server's loop lag over the measured window is read when
// the load generator marks its start and end (`lag` in the report).
async function sseLoad(url, clients, durationS, warmupMs, srv) {
  const client = BUN ? [BUN, []] : [NODE, []];
  const c = start(CLIENT_CORE, client[0], [
    ...client[1],
    "bench/sse_load.mjs",
    url,
    String(clients),
    String(durationS * 1000),
    String(warmupMs),
  ]);
  const t = setTimeout(
    () => kill(c),
    (durationS + warmupMs / 1000 + 20) * 1000,
  );
  let lag;
  const marks = srv
    ? (async () => {
      await waitLine(c, /WINDOW_START/, warmupMs + 20000);
      await lagRead(srv);
      await waitLine(c, /WINDOW_END/, durationS * 1000 + 20000);
      lag = await lagRead(srv);
    })().catch((e) =>
      log(`lag marks: ${String(e.message ?? e).split("\n")[0]}`)
    )
    : undefined;
  try {
    await c.exited;
    await marks;
  } finally {
    clearTimeout(t);
    await kill(c);
  }
  const j = JSON.parse(c.out.trim().split("\n").pop());
  j.lag = lag;
  return j;
}

// Sections 2 and 2b share one run loop: per repeat and config, start the
// server (and router upstream), reset the sink, run the SSE load, and read
// the spans the sink received and the server's loop lag. `extra(url, j)`
// adds section-specific measurements to the report; `describe(j)` is the
// log line; `configs` (default streamConfigs) and `repeats` (REPEATS).
async function streamSection(label, sink, opts) {
  const traces = `http://127.0.0.1:${sink.port}/v1/traces`;
  const configs = opts.configs ?? streamConfigs(traces);
  for (let rep = 0; rep < (opts.repeats ?? REPEATS); rep++) {
    for (const c of configs) {
      const name = `${label} ${c.rt} ${c.name} #${rep + 1}`;
      noteLoad(name);
      let upstream;
      let srv;
      try {
        let url;
        ({ srv, upstream, url } = await startStream(c, opts.env));
        await sinkReset(sink);
        const j = await sseLoad(
          url,
          opts.clients,
          opts.duration,
          WARMUP * 1000,
          srv,
        );
        const st = await sinkStats(sink);
        j.spans = st.spans;
        j.metricPosts = metricPosts(st);
        await opts.extra?.(url, j);
        c.runs.push(j);
        log(
          `${name}: ${opts.describe(j)}; lag max ${f3(j.lag?.max)} p99 ${
            f3(j.lag?.p99)
          } ms; metric posts ${j.metricPosts}`,
        );
      } finally {
        await kill(srv);
        await kill(upstream);
      }
    }
  }
  return configs;
}

async function llm(sink) {
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

// Section 2b: the same answer generated at a token pace (PACE_MS between
// content events, PREFILL_MS before the first) to many concurrent clients:
// what a real LLM server sees. The router's upstream is paced too.
const PACED_OPTS = {
  env: { PACE_MS: String(PACE_MS), PREFILL_MS: String(PREFILL_MS) },
  clients: PACED_CLIENTS,
  duration: PACED_DURATION,
  describe: (j) =>
    `${f0(j.chunksPerSec)} chunks/s ttfb p50 ${f3(j.ttfbP50)} ms stream p50 ${
      f3(j.streamP50)
    } ms errors ${j.errors}`,
};
async function paced(sink) {
  const traces = `http://127.0.0.1:${sink.port}/v1/traces`;
  results.paced = await streamSection("paced", sink, {
    ...PACED_OPTS,
    configs: streamConfigs(traces, { metrics: true }),
  });
}

async function cold(sink) {
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

async function exportPath(sink) {
  const traces = `http://127.0.0.1:${sink.port}/v1/traces`;
  const out = { throughput: [], down: [] };
  const dead = await deadPort();
  for (const rt of ["deno", "bun"]) {
    if (rt === "deno" ? !DENO : !BUN) continue;
    const [cmd, args] = runtimeArgs(rt, "bench/export.ts");
    const tp = { rt, runs: [] };
    for (let rep = 0; rep < REPEATS; rep++) {
      const r = await run(SERVER_CORE, cmd, args, {
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
        const r = await run(SERVER_CORE, cmd, args, {
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

// Section "unpinned": the issue's second configuration, no process pinned to
// a core (the scheduler spreads server, load generator and sink over both):
// trivial and paced, untraced vs traced, fewer repeats, its own sink.
async function unpinned() {
  const saved = pinning;
  pinning = false;
  let sink2;
  try {
    sink2 = start(undefined, NODE, ["bench/sink.mjs"]);
    sink2.port = Number((await waitLine(sink2, /LISTEN (\d+)/))[1]);
    const traces = `http://127.0.0.1:${sink2.port}/v1/traces`;
    results.unpinned = { repeats: UNPINNED_REPEATS };
    results.unpinned.trivial = await trivialRuns(
      "unpinned trivial",
      trivialConfigs(traces, sink2.port, [
        "untraced",
        "traceHandler + initTracer",
      ]),
      sink2,
      UNPINNED_REPEATS,
    );
    results.unpinned.paced = await streamSection("unpinned paced", sink2, {
      ...PACED_OPTS,
      repeats: UNPINNED_REPEATS,
      configs: streamConfigs(traces, {
        only: ["direct, untraced", "direct, traceHandler"],
      }),
    });
  } finally {
    pinning = saved;
    await kill(sink2);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
// VmRSS and VmHWM (bytes) of a process, from /proc.
function procMem(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kB = (k) =>
      Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1]) * 1024;
    return { rss: kB("VmRSS"), hwm: kB("VmHWM") };
  } catch {
    return {};
  }
}

// Section "outage": the collector down under load. Per runtime and variant
// (dead: nothing listens on the port; 503 (or any status): a sink answering
// it to every export; ok: the healthy sink), the paced LLM server, traced
// (its metrics go to the same collector), under OUTAGE_CLIENTS paced SSE
// clients for OUTAGE_WARMUP + OUTAGE_SECONDS; every OUTAGE_SAMPLE s: the
// server's RSS, its stderr line count, its loop lag since the last sample
// and (sink variants) the export requests received.
async function outage(sink) {
  results.outage = [];
  const total = OUTAGE_WARMUP + OUTAGE_SECONDS;
  // sample times, s after the load generator starts: every OUTAGE_SAMPLE,
  // the last just before the load ends
  const times = [];
  for (let t = 0; t < total - 1 && times.length < 10000; t += OUTAGE_SAMPLE) {
    times.push(t);
  }
  times.push(total - 0.5);
  for (const rt of ["deno", "bun"]) {
    if (rt === "deno" ? !DENO : !BUN) continue;
    for (const variant of OUTAGE_VARIANTS) {
      const label = `outage ${rt} ${variant}`;
      noteLoad(label);
      log(`${label}: ${total} s`);
      const o = { rt, variant, samples: [] };
      let failSink;
      let srv;
      let load;
      try {
        let endpoint;
        let countSink;
        if (variant === "dead") {
          endpoint = `http://127.0.0.1:${await deadPort()}/v1/traces`;
        } else if (variant === "ok") {
          endpoint = `http://127.0.0.1:${sink.port}/v1/traces`;
          countSink = sink;
          await sinkReset(sink);
        } else if (/^\d{3}$/.test(variant)) {
          failSink = start(CLIENT_CORE, NODE, ["bench/sink.mjs"], {
            SINK_STATUS: variant,
          });
          failSink.port = Number(
            (await waitLine(failSink, /LISTEN (\d+)/))[1],
          );
          endpoint = `http://127.0.0.1:${failSink.port}/v1/traces`;
          countSink = failSink;
        } else {throw new Error(
            `unknown BENCH_OUTAGE_VARIANTS entry ${variant}`,
          );}
        srv = await startServer(rt, "bench/servers/llm.ts", {
          MODE: "traced",
          SINK: endpoint,
          ...PACED_OPTS.env,
        });
        const url = `http://127.0.0.1:${srv.port}/v1/chat/completions`;
        o.errLinesAtStart = srv.errLines;
        load = start(CLIENT_CORE, BUN ?? NODE, [
          "bench/sse_load.mjs",
          url,
          String(OUTAGE_CLIENTS),
          String(OUTAGE_SECONDS * 1000),
          String(OUTAGE_WARMUP * 1000),
        ]);
        const t0 = performance.now();
        for (const t of times) {
          const ended = await Promise.race([
            sleep(t0 + t * 1000 - performance.now()).then(() => false),
            load.exited.then(() => true),
          ]);
          if (ended) break;
          const mem = procMem(srv.pid);
          const lag = await lagRead(srv);
          const exports = countSink
            ? (await sinkStats(countSink)).requests
            : undefined;
          o.samples.push({
            t: (performance.now() - t0) / 1000,
            ...mem,
            errLines: srv.errLines,
            lag,
            exports,
          });
        }
        const guard = setTimeout(() => kill(load), 30000);
        await load.exited;
        clearTimeout(guard);
        o.load = JSON.parse(load.out.trim().split("\n").pop());
        o.errLines = srv.errLines;
        o.errSample = srv.err.split("\n").filter(Boolean).slice(0, 3)
          .map((l) => (l.length > 240 ? l.slice(0, 240) + "…" : l));
        o.stdoutOther = srv.out.split("\n")
          .filter((l) => l && !/^(LISTEN|LAG) /.test(l)).length;
        Object.assign(o, outageSummary(o));
        log(
          `${label}: ${f0(o.load.chunksPerSec)} chunks/s, RSS ${
            mb(o.rssWarm)
          } → ${mb(o.rss1m)} (1 min) → ${mb(o.rssEnd)} MB (max ${
            mb(o.rssMax)
          }), last-half growth ${
            f2(o.lastHalfGrowth * 100)
          }%, stderr ${o.windowErrLines} lines in window (max ${o.maxErrPerInterval} per sample), lag max ${
            f3(o.lagMax)
          } ms, ${o.load.errors} errors`,
        );
      } catch (e) {
        o.error = String(e.message ?? e).split("\n")[0];
        log(`${label} failed: ${e.stack ?? e}`);
      } finally {
        await kill(load);
        await kill(srv);
        await kill(failSink);
      }
      results.outage.push(o);
    }
  }
}

// The outage figures from the samples: RSS after the warm-up, 1 min later,
// at the end, the max; growth over the second half of the window; stderr
// lines and export requests in the window, per 10 s and per sample interval.
function outageSummary(o) {
  const s = o.samples;
  const at = (t) => s.find((x) => x.t >= t - 0.5);
  const warm = at(OUTAGE_WARMUP) ?? s[0];
  const end = s[s.length - 1];
  const mid = at(OUTAGE_WARMUP + OUTAGE_SECONDS / 2);
  const win = s.filter((x) => x.t >= warm.t);
  const steps = win.slice(1).map((x, i) => ({
    dt: x.t - win[i].t,
    lines: x.errLines - win[i].errLines,
    exports: x.exports - win[i].exports,
  }));
  const secs = end.t - warm.t;
  const lags = win.slice(1).map((x) => x.lag).filter(Boolean);
  return {
    rssStart: s[0]?.rss,
    rssWarm: warm?.rss,
    rss1m: at(OUTAGE_WARMUP + 60)?.rss,
    rssEnd: end?.rss,
    rssMax: max(s.map((x) => x.rss)),
    hwmEnd: end?.hwm,
    lastHalfGrowth: mid && mid !== end ? (end.rss - mid.rss) / mid.rss : NaN,
    windowSeconds: secs,
    windowErrLines: end.errLines - warm.errLines,
    errPer10s: secs > 0 ? (end.errLines - warm.errLines) / secs * 10 : NaN,
    maxErrPerInterval: steps.length ? max(steps.map((x) => x.lines)) : NaN,
    exportsPer10s: end.exports !== undefined && secs > 0
      ? (end.exports - warm.exports) / secs * 10
      : NaN,
    lagMax: max(lags.map((l) => l.max)),
    lagP99Worst: max(lags.map((l) => l.p99)),
    lagP99Median: median(lags.map((l) => l.p99)),
  };
}

async function bundle() {
  const r = await run(undefined, NODE, ["bench/bundle.mjs"], {}, 60000);
  results.bundle = JSON.parse(r.out.trim().split("\n").pop());
  log(
    `bundle core ${results.bundle.core.gzip} B gz, lazy ${results.bundle.lazy.gzip} B gz`,
  );
}

// ---------------------------------------------------------------- report
function version(cmd, args) {
  try {
    return execFileSync(cmd, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    })
      .trim().split("\n")[0];
  } catch (e) {
    return (e.stderr?.toString() || e.stdout?.toString() || "?").trim().split(
      "\n",
    )[0];
  }
}

// The loop-lag cells of a config: median over the repeats of each run's max
// lag (worst run in parentheses), median of the runs' p99 lag.
function lagCells(c) {
  const mx = c.runs.map((r) => r.lag?.max);
  return `${f2(median(mx))} (${f2(max(mx))}) | ${
    f2(median(c.runs.map((r) => r.lag?.p99)))
  }`;
}
const LAG_TEXT =
  `"max loop lag" is how late the server's 1 ms \`setInterval\` ran at worst during the measured window (the longest the event loop went without running a timer, minus 1 ms; median of the runs' maxima, worst run in parentheses), "p99 lag" its 99th percentile (bench/servers/common.ts, read with SIGUSR2 at the window's start and end, so nothing is added to the request path). The monitor runs in every config, untraced included; its timer's own slack is in every number (Deno's 1 ms timers fire ~2.2 ms apart even when idle, so Deno's floor is ~1.2 ms, Bun's ~0.1 ms): read a traced row's lag against the untraced row's. The goal "no export step blocks the event loop for more than 2 ms" is the traced max minus the untraced max.`;

function trivialTable(L, configs) {
  L.push(
    "| runtime | config | req/s median | min – max | ratio | p50 ms | p99 ms | spans/req | max loop lag ms | p99 lag ms |",
  );
  L.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const rt of ["deno", "bun"]) {
    const cs = configs.filter((c) => c.rt === rt);
    if (!cs.length) continue;
    const base = median(cs[0].runs.map((r) => r.rps));
    for (const c of cs) {
      const rps = c.runs.map((r) => r.rps);
      L.push(
        `| ${rt} | ${c.name} | ${f0(median(rps))} | ${f0(min(rps))} – ${
          f0(max(rps))
        } | **${f3(median(rps) / base)}** | ${
          f3(median(c.runs.map((r) => r.p50)))
        } | ${f3(median(c.runs.map((r) => r.p99)))} | ${
          f2(median(c.runs.map((r) => r.coverage)))
        } | ${lagCells(c)} |`,
      );
    }
  }
  L.push("");
}

function pacedTable(L, configs) {
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

// The metric exports the sink received in the "+ metrics" rows' windows.
function metricsLine(L, configs) {
  const ms = configs.filter((c) => c.env.OTEL_METRIC_EXPORT_INTERVAL);
  if (!ms.length) return;
  L.push(
    `Metric exports (POST /v1/metrics) the sink received per measured window: ${
      ms.map((c) =>
        `${c.rt} ${c.runs.map((r) => r.metricPosts ?? "?").join("/")}`
      ).join(", ")
    }.`,
    "",
  );
}

function report(meta) {
  const L = [];
  // The lag columns are explained where they first appear.
  let lagSaid = false;
  const lagText = () =>
    lagSaid
      ? "Max loop lag and p99 lag as explained above."
      : ((lagSaid = true), LAG_TEXT);
  L.push("# llmtrace benchmarks", "");
  L.push(
    `Generated by \`npm run bench\` (\`node bench/run.mjs\`) on ${meta.date}; total wall time ${
      f0(meta.wallS)
    } s.`,
    "",
  );
  L.push("| | |", "|---|---|");
  L.push(`| CPU | ${meta.cpu} (${cpus().length} cores) |`);
  L.push(
    `| Deno | ${meta.deno} |`,
    `| Bun | ${meta.bun} |`,
    `| Node (harness, sink, bundler) | ${process.version} |`,
  );
  L.push(`| Load generator | ${meta.loadgen} |`);
  L.push(
    `| Pinning | ${
      PIN
        ? `pinned: taskset, server on core ${SERVER_CORE}; load generator, OTLP sink and router upstream on core ${CLIENT_CORE}`
        : CAN_PIN
        ? "**unpinned** (BENCH_PIN=0): no process pinned, the scheduler places them"
        : "unpinned (taskset missing or 1 core)"
    }${
      results.unpinned && PIN
        ? "; section 6 repeats trivial and paced with no process pinned"
        : ""
    } |`,
  );
  L.push(
    `| Priority | ${
      NICE
        ? `nice ${NICE_LEVEL} for every bench process (other work on the machine competes for the same cores)`
        : "default"
    } |`,
  );
  L.push(
    `| Code under test | ${
      MOD ? `\`${MOD}\` (BENCH_MOD)` : "this tree's mod.ts"
    }${ALT ? `; "[alt]" rows: \`${ALT}\` (BENCH_ALT_MOD)` : ""} |`,
  );
  L.push(
    `| Repeats | ${REPEATS} per config, alternating A B C… A B C…; ${WARMUP} s warm-up + ${DURATION} s measured, fresh server process per run |`,
  );
  L.push(
    `| Load average (1 min) during runs | ${
      f2(min(loads.map((l) => l.load1)))
    } – ${f2(max(loads.map((l) => l.load1)))} |`,
  );
  L.push("");
  if (meta.busy.length) {
    L.push(
      "**Other load noticed** (processes not started by the bench using >= 5% CPU, sampled at start/end):",
      "",
    );
    for (const b of meta.busy) L.push(`- ${b}`);
    L.push("");
  }
  L.push(
    "Ratios are medians divided by the median of the untraced baseline of the same runtime and section, from the same harness run. Min–max are over the repeats.",
    "",
  );

  if (results.trivial) {
    L.push('## 1. Trivial handler (`new Response("ok")`)', "");
    L.push(
      `${
        LOADGEN === "wrk" ? "wrk" : "autocannon"
      }, ${CONNS} keep-alive connections, 1 thread. "spans/req" is spans the sink received during the measured window divided by requests served (a check that traced configs really export). "web SDK by hand" is an anchor, not llmtrace: the untraced handler with one server span (3 attributes, status code) started and ended by hand with the official OpenTelemetry \`WebTracerProvider\` + \`BatchSpanProcessor\` + OTLP/HTTP protobuf exporter, sending to the same sink, i.e. what a straightforward SDK-instrumented handler costs; "traceHandler's 8 attributes" is the same with the attribute set traceHandler records for this request (method, path, scheme, server address and port, user agent, client address, status), so the gap between it and traceHandler is llmtrace's own code.`,
      "",
    );
    if (LOADGEN !== "wrk") {
      L.push(
        "autocannon (Node) saturates one core at roughly 80k req/s, below what Deno.serve/Bun.serve answer untraced, so untraced rows are load-generator bound and ratios read high; its latencies have 1 ms resolution. Install wrk for real numbers.",
        "",
      );
    }
    L.push(
      `"traceHandler + initTracer" is initTracer's default, which starts metrics too: traceHandler records GenAI histograms only for GenAI operations, so none here, and the OTLP metric export runs every 60 s, i.e. never inside a window. "+ metrics (OTLP every 1 s)" sets \`OTEL_METRIC_EXPORT_INTERVAL=1000\`, so the metrics pipeline exports to the same sink (…/v1/metrics) during the window.`,
      "",
      lagText(),
      "",
    );
    trivialTable(L, results.trivial);
    metricsLine(L, results.trivial);
  }
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
  if (results.bundle) {
    const b = results.bundle;
    L.push(
      "## 5. Edge bundle (esbuild, minified ESM, platform browser, es2022)",
      "",
    );
    L.push(
      "| part | files | minified KiB | gzip -9 KiB |",
      "|---|---:|---:|---:|",
    );
    L.push(
      `| core: what \`import "mod.ts"\` loads (entry + shared chunk) | ${b.core.files} | ${
        kb(b.core.raw)
      } | ${kb(b.core.gzip)} |`,
    );
    L.push(
      `| lazy: the SDK chunk \`initTracer\` imports (src/sdk/bundle.ts) | ${b.lazy.files} | ${
        kb(b.lazy.raw)
      } | ${kb(b.lazy.gzip)} |`,
    );
    L.push(
      `| everything in one file (no splitting) | ${b.single.files} | ${
        kb(b.single.raw)
      } | ${kb(b.single.gzip)} |`,
    );
    L.push(
      "",
      "Chunks: " +
        Object.entries(b.chunks).map(([k, v]) =>
          `\`${k}\` ${kb(v.bytes)} KiB${v.core ? " (core)" : " (lazy)"}`
        ).join(", "),
      "",
    );
  }
  if (results.unpinned) {
    const u = results.unpinned;
    L.push("## 6. Unpinned: no process pinned to a core", "");
    L.push(
      `The issue's second configuration: the same runs as sections 1 and 2b (untraced vs traceHandler + initTracer only), with no \`taskset\`: server, load generator and a sink of its own float over all ${cpus().length} cores, as on a host nobody tuned. ${u.repeats} repeat${
        u.repeats === 1 ? "" : "s"
      } per config; ratios against the unpinned untraced row. ${lagText()}`,
      "",
    );
    if (u.trivial) {
      L.push('Trivial handler (`new Response("ok")`), as section 1:', "");
      trivialTable(L, u.trivial);
    }
    if (u.paced) {
      L.push(
        `Paced streaming (${PACED_TOKENS} tokens, ${PACE_MS} ms apart, ${PACED_CLIENTS} clients), as section 2b:`,
        "",
      );
      pacedTable(L, u.paced);
    }
  }
  if (results.outage) {
    L.push(
      `## 7. Collector down under load (${OUTAGE_SECONDS} s)`,
      "",
    );
    L.push(
      `The paced LLM server of section 2b, traced (traceHandler + initTracer, metrics at their default), ${OUTAGE_CLIENTS} paced SSE clients for ${OUTAGE_WARMUP} s of warm-up + ${OUTAGE_SECONDS} s, the exporter (traces and metrics) pointed at a collector that is down: "dead" is a loopback port nothing listens on (connection refused), "503" a sink answering 503 to every export (retryable; "export req/10 s" is what it received), "ok" a healthy sink as a reference. Every ${OUTAGE_SAMPLE} s the harness reads the server's VmRSS from /proc, counts the lines it wrote to stderr and reads its loop lag. "after warm-up" is the sample at ${OUTAGE_WARMUP} s, "1 min" 60 s later, "end" the last sample before the load stops; "last-half growth" is RSS at the end vs the middle of the window, "plateau" means under 5%. "stderr/10 s" is the window's lines per 10 s (goal: at most 1), "max/sample" the most in one ${OUTAGE_SAMPLE} s sample interval.`,
      "",
    );
    L.push(
      "| runtime | collector | chunks/s | RSS after warm-up MB | RSS at 1 min MB | RSS at end MB | max RSS MB | VmHWM MB | last-half growth | plateau | stderr lines (window / total) | stderr/10 s | max/sample | export req/10 s | max loop lag ms | worst 10 s p99 lag ms | client errors |",
    );
    L.push(
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const o of results.outage) {
      if (o.error) {
        L.push(
          `| ${o.rt} | ${o.variant} | failed: ${
            o.error.replaceAll("|", "\\|")
          } |`,
        );
        continue;
      }
      L.push(
        `| ${o.rt} | ${o.variant} | ${f0(o.load.chunksPerSec)} | ${
          mb(o.rssWarm)
        } | ${mb(o.rss1m)} | ${mb(o.rssEnd)} | ${mb(o.rssMax)} | ${
          mb(o.hwmEnd)
        } | ${
          Number.isFinite(o.lastHalfGrowth)
            ? `${o.lastHalfGrowth >= 0 ? "+" : ""}${
              f2(o.lastHalfGrowth * 100)
            }%`
            : "n/a"
        } | ${
          Number.isFinite(o.lastHalfGrowth)
            ? (o.lastHalfGrowth < 0.05 ? "yes" : "**no**")
            : "n/a"
        } | ${o.windowErrLines} / ${o.errLines} | ${f2(o.errPer10s)} | ${
          f0(o.maxErrPerInterval)
        } | ${f2(o.exportsPer10s)} | ${f2(o.lagMax)} | ${
          f2(o.lagP99Worst)
        } | ${o.load.errors} |`,
      );
    }
    L.push("");
    for (const o of results.outage) {
      if (o.error) continue;
      L.push(
        `- ${o.rt} ${o.variant}: RSS MB every ${OUTAGE_SAMPLE} s: ${
          o.samples.map((x) => mb(x.rss)).join(", ")
        }; stderr lines per sample: ${
          o.samples.slice(1).map((x, i) => x.errLines - o.samples[i].errLines)
            .join(", ")
        }${
          o.stdoutOther ? `; ${o.stdoutOther} other stdout lines` : ""
        }; first stderr lines: ${
          o.errSample.length
            ? o.errSample.map((l) =>
              `\`${l.replaceAll("`", "'").replaceAll("|", "\\|")}\``
            ).join(" / ")
            : "none"
        }`,
      );
    }
    L.push("");
  }
  if (meta.notes.length) {
    L.push("## Notes", "");
    for (const n of meta.notes) L.push(`- ${n}`);
    L.push("");
  }
  return L.join("\n");
}

// ---------------------------------------------------------------- main
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
// 25 min for the default sections, plus what the opt-in ones take.
const runtimesN = (DENO ? 1 : 0) + (BUN ? 1 : 0);
const limitS = 25 * 60 +
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
  for (
    const [name, fn] of [
      ["trivial", trivial],
      ["llm", llm],
      ["paced", paced],
      ["cold", cold],
      ["export", exportPath],
      ["bundle", bundle],
      ["unpinned", unpinned],
      ["outage", outage],
    ]
  ) {
    if (!SECTIONS.has(name)) continue;
    log(`section ${name}`);
    try {
      await fn(sink);
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
const md = report(meta);
const outFile = process.env.BENCH_OUT ?? join(BENCH, "RESULTS.md");
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
