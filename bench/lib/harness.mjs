// The harness every section runs on: where things are, the runtimes and tools
// found, the processes it starts (pinned with taskset to the server core or
// the client core, at a higher priority as root) and stops by pid, the
// servers' event-loop lag monitor read with SIGUSR2, the load average noted
// per run, BENCH_FILTER over alternated configurations, and the results the
// sections fill for the report.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BENCH = join(ROOT, "bench");
export const envNum = (k, d) => (process.env[k] ? Number(process.env[k]) : d);
export const REPEATS = envNum("BENCH_REPEATS", 3);
export const DURATION = envNum("BENCH_DURATION", 5);
export const WARMUP = envNum("BENCH_WARMUP", 1);
// BENCH_ALT_MOD=/abs/path/to/other/mod.ts adds "[alt]" traced configs that
// load llmtrace from another tree (A/B of a patch without touching src/).
export const ALT = process.env.BENCH_ALT_MOD;
// BENCH_MOD=/abs/path/to/mod.ts benches another tree (e.g. a snapshot of this
// one, so edits made while the bench runs do not mix into its numbers).
export const MOD = process.env.BENCH_MOD;

function which(cmd) {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
function bin(local, name) {
  const p = join(ROOT, local);
  return existsSync(p) ? p : which(name);
}
export const DENO = bin("node_modules/deno/deno", "deno");
export const BUN = bin("node_modules/bun/bin/bun.exe", "bun");
export const NODE = process.execPath.includes("node")
  ? process.execPath
  : which("node");
export const WRK = which("wrk");
export const AUTOCANNON = bin("node_modules/.bin/autocannon", "autocannon");
export const LOADGEN = process.env.BENCH_LOADGEN ??
  (WRK ? "wrk" : "autocannon");
export const TASKSET = which("taskset");
const STDBUF = which("stdbuf");
export const CAN_PIN = Boolean(TASKSET && cpus().length >= 2);
export const PIN = CAN_PIN && process.env.BENCH_PIN !== "0";
// Whether start() pins now: PIN, except while the unpinned section runs.
let pinning = PIN;
// The unpinned section turns pinning off for its runs; returns the old value.
export function setPinning(on) {
  const was = pinning;
  pinning = on;
  return was;
}
// Other work on the machine (test suites) competes for both cores: as root,
// run the bench's processes at a higher priority (BENCH_NICE=0 to disable).
export const NICE_LEVEL = envNum("BENCH_NICE", -10);
export const NICE = NICE_LEVEL !== 0 && process.getuid?.() === 0
  ? which("nice")
  : undefined;
export const SERVER_CORE = "0";
export const CLIENT_CORE = String(Math.min(1, cpus().length - 1));

export const children = new Set();
// `opts.onLine(stream, line)`, when given, sees every stdout and stderr line
// as it arrives; a line it returns false for is not kept in `out` / `err`
// (the steady section's GC logs: megabytes nobody waits for). Other options
// go to spawn.
export function start(core, cmd, args, env = {}, opts = {}) {
  const { onLine, ...spawnOpts } = opts;
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
    ...spawnOpts,
  });
  child.out = "";
  child.err = "";
  child.errLines = 0;
  const keepErr = (d) => {
    if (child.err.length < 20000) child.err += d;
  };
  if (onLine) {
    eachLine(child.stdout, (l) => {
      if (onLine("stdout", l) !== false) child.out += l + "\n";
    });
    eachLine(child.stderr, (l) => {
      child.errLines++;
      if (onLine("stderr", l) !== false) keepErr(l + "\n");
    });
  } else {
    child.stdout.on("data", (d) => (child.out += d));
    child.stderr.on("data", (d) => {
      for (const b of d) if (b === 10) child.errLines++;
      keepErr(d);
    });
  }
  child.exited = new Promise((r) => child.on("exit", (code) => r(code)));
  children.add(child);
  child.exited.then(() => children.delete(child));
  return child;
}
// Calls fn with each complete line of a stream (without its newline).
function eachLine(stream, fn) {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (d) => {
    const lines = (rest + d).split("\n");
    rest = lines.pop();
    for (const l of lines) fn(l);
  });
}
export async function kill(child) {
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
export function killAllSync() {
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
export function waitLine(child, re, timeoutMs = 20000) {
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
export async function run(core, cmd, args, env = {}, timeoutMs = 60000) {
  const c = start(core, cmd, args, env);
  const t = setTimeout(() => kill(c), timeoutMs);
  const code = await c.exited;
  clearTimeout(t);
  return { code, out: c.out, err: c.err, errLines: c.errLines };
}
// `flags`: runtime flags before the script (e.g. Deno's --v8-flags).
export function runtimeArgs(rt, script, flags = []) {
  return rt === "deno"
    ? [DENO, ["run", "-A", ...flags, script]]
    : [BUN, [...flags, script]];
}
// `opts.flags`: runtime flags; `opts.lineBuffered`: run under `stdbuf -oL`,
// so what the runtime's C code prints to stdout (V8's --trace-gc) is written
// line by line, in order with the server's own lines, not in 4 KiB blocks;
// `opts.onLine`: as start()'s.
export async function startServer(
  rt,
  script,
  env,
  core = SERVER_CORE,
  opts = {},
) {
  let [cmd, args] = runtimeArgs(rt, script, opts.flags);
  if (opts.lineBuffered) {
    if (!STDBUF) throw new Error("stdbuf (coreutils) not found");
    [cmd, args] = [STDBUF, ["-oL", cmd, ...args]];
  }
  const c = start(core, cmd, args, env, { onLine: opts.onLine });
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
export async function lagRead(srv, timeoutMs = 5000) {
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
export function deadPort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

export const loads = [];
export function noteLoad(label) {
  loads.push({ label, load1: loadavg()[0] });
}
export function busyProcesses() {
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

// A section's configurations as run: `only` the ones so named (all without
// it), then BENCH_FILTER=regex keeps those whose "runtime name" matches
// (baselines are always kept, so ratios stay defined); each gets its `runs`.
export function prepareConfigs(configs, only) {
  if (only) {
    configs.splice(
      0,
      configs.length,
      ...configs.filter((c) => only.includes(c.name)),
    );
  }
  const f = process.env.BENCH_FILTER;
  if (f) {
    const re = new RegExp(f);
    const keep = configs.filter((c) =>
      re.test(`${c.rt} ${c.name}`) ||
      !c.env.SINK && !c.env.OTEL_DENO && c.env.MODE !== "disabled"
    );
    configs.splice(0, configs.length, ...keep);
  }
  for (const c of configs) c.runs = [];
  return configs;
}

// What the sections measured, by section name, for the report.
export const results = {};
export const log = (...a) =>
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

export const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
// VmRSS and VmHWM (bytes) of a process, from /proc.
export function procMem(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kB = (k) =>
      Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1]) * 1024;
    return { rss: kB("VmRSS"), hwm: kB("VmHWM") };
  } catch {
    return {};
  }
}

// The first line a tool prints for `--version` (or its error).
export function version(cmd, args) {
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
