// Section 7 ("outage", opt-in): the paced server, traced, with its collector
// down (or answering 503) for minutes: RSS, stderr, exports, loop lag.
import {
  BUN,
  CLIENT_CORE,
  deadPort,
  DENO,
  envNum,
  kill,
  lagRead,
  log,
  NODE,
  noteLoad,
  procMem,
  results,
  sleep,
  start,
  startServer,
  waitLine,
} from "../lib/harness.mjs";
import { sinkReset, sinkStats } from "../lib/load.mjs";
import { f0, f2, f3, max, mb, median } from "../lib/stats.mjs";
import { PACED_CLIENTS, PACED_OPTS } from "./paced.mjs";

export const OUTAGE_SECONDS = envNum("BENCH_OUTAGE_SECONDS", 300);
export const OUTAGE_WARMUP = envNum("BENCH_OUTAGE_WARMUP", 10);
const OUTAGE_SAMPLE = envNum("BENCH_OUTAGE_SAMPLE", 10);
const OUTAGE_CLIENTS = envNum("BENCH_OUTAGE_CLIENTS", PACED_CLIENTS);
export const OUTAGE_VARIANTS = (process.env.BENCH_OUTAGE_VARIANTS ?? "dead,503")
  .split(",").map((s) => s.trim()).filter(Boolean);

// Section "outage": the collector down under load. Per runtime and variant
// (dead: nothing listens on the port; 503 (or any status): a sink answering
// it to every export; ok: the healthy sink), the paced LLM server, traced
// (its metrics go to the same collector), under OUTAGE_CLIENTS paced SSE
// clients for OUTAGE_WARMUP + OUTAGE_SECONDS; every OUTAGE_SAMPLE s: the
// server's RSS, its stderr line count, its loop lag since the last sample
// and (sink variants) the export requests received.
export async function run(sink) {
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
    // The JS heap in use at the same samples (the server reports it with
    // its loop lag), so a plateau is shown for both.
    heapWarm: warm?.lag?.heapMB,
    heap1m: at(OUTAGE_WARMUP + 60)?.lag?.heapMB,
    heapEnd: end?.lag?.heapMB,
    heapMax: max(s.map((x) => x.lag?.heapMB).filter((x) => x !== undefined)),
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

export function report(L) {
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
      "| runtime | collector | chunks/s | RSS after warm-up MB | RSS at 1 min MB | RSS at end MB | max RSS MB | VmHWM MB | JS heap after warm-up / 1 min / end / max MB | last-half growth | plateau | stderr lines (window / total) | stderr/10 s | max/sample | export req/10 s | max loop lag ms | worst 10 s p99 lag ms | client errors |",
    );
    L.push(
      "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
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
          [o.heapWarm, o.heap1m, o.heapEnd, o.heapMax].map((
            x,
          ) => (x === undefined ? "n/a" : x.toFixed(1))).join(" / ")
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
}
