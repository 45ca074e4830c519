// Runtime glue for the bench servers: env, listen on 127.0.0.1:0, print the
// port as "LISTEN <port>" on stdout.
//
// Event-loop lag monitor (every server listen() starts, LAG_MONITOR=0 to
// skip): a 1 ms setInterval whose tick records how late it ran, i.e. the gap
// since the previous tick minus 1 ms (performance.now()), into a fixed
// histogram (0.01 ms steps to 20 ms, then 1 ms steps to 1 s; the max is
// exact). Each SIGUSR2 prints `LAG <seq> {"n","p50","p99","max"}` (ms) for
// the samples since the previous SIGUSR2 and starts afresh: the harness
// sends one at the start of a measured window (discarded) and one at its
// end. A signal adds nothing to the request path. The timer's own slack is
// in every number (Deno's 1 ms timers fire about 2.2 ms apart when idle,
// Bun's about 1.1 ms), the same for untraced and traced servers.
// GC_MARK=1 also prints `MARK <seq>` to stderr at each SIGUSR2: the steady
// section marks its windows in Bun's GC log (BUN_JSC_logGC writes to stderr;
// Deno's --trace-gc goes to stdout, where the LAG line is the mark).
// deno-lint-ignore-file no-explicit-any
import { startServer } from "../../tests/support/servers.ts";
const g = globalThis as any;

export function env(name: string): string | undefined {
  return g.Deno ? g.Deno.env.get(name) : g.process?.env?.[name];
}

export type Handler = (
  req: Request,
  ...rest: any[]
) => Response | Promise<Response>;

const FINE = 2000; // 0.01 ms buckets: [0, 20) ms
const COARSE = 980; // 1 ms buckets: [20, 1000) ms, the last one open
const buckets = new Uint32Array(FINE + COARSE);
let samples = 0;
let maxLag = 0;
let seq = 0;
const gcMark = env("GC_MARK") === "1";

function bucketOf(lag: number): number {
  if (lag < 20) return Math.floor(lag * 100);
  return Math.min(FINE + COARSE - 1, FINE + Math.floor(lag - 20));
}
function upperEdge(i: number): number {
  return i < FINE ? (i + 1) / 100 : 20 + (i - FINE + 1);
}
function percentile(p: number): number | null {
  if (!samples) return null;
  const rank = Math.ceil(samples * p);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i];
    if (seen >= rank) return Math.min(upperEdge(i), maxLag);
  }
  return maxLag;
}
function report(): void {
  const r = {
    n: samples,
    p50: percentile(0.5),
    p99: percentile(0.99),
    max: samples ? maxLag : null,
    // The JS heap in use (MB), so the outage section can tell a growing
    // heap from a growing RSS.
    heapMB: heapUsed() / 1048576,
  };
  console.log(`LAG ${++seq} ${JSON.stringify(r)}`);
  if (gcMark) console.error(`MARK ${seq}`);
  buckets.fill(0);
  samples = 0;
  maxLag = 0;
}

function heapUsed(): number {
  const m = g.Deno ? g.Deno.memoryUsage() : g.process.memoryUsage();
  return m.heapUsed;
}

export function startLagMonitor(): void {
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const lag = Math.max(0, now - last - 1);
    last = now;
    buckets[bucketOf(lag)]++;
    samples++;
    if (lag > maxLag) maxLag = lag;
  }, 1);
  if (g.Deno) g.Deno.addSignalListener("SIGUSR2", report);
  else g.process.on("SIGUSR2", report);
}

export function listen(
  handler: Handler,
  port = Number(env("PORT") ?? 0),
): number {
  const p = startServer(handler, { port, idleTimeout: 60 }).port;
  if (env("LAG_MONITOR") !== "0") startLagMonitor();
  console.log(`LISTEN ${p}`);
  return p;
}
