// The load generators the sections drive, each run on the client core: wrk
// (or autocannon) for plain HTTP, bench/sse_load.mjs for streamed answers;
// and the OTLP sink's counters (bench/sink.mjs).
import {
  AUTOCANNON,
  BUN,
  CLIENT_CORE,
  envNum,
  kill,
  lagRead,
  LOADGEN,
  log,
  NODE,
  run,
  start,
  waitLine,
  WRK,
} from "./harness.mjs";

export const CONNS = envNum("BENCH_CONNECTIONS", 32);

export function parseWrkLatency(s) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
}
export async function httpLoad(port, seconds) {
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
export async function sinkStats(sink) {
  return await (await fetch(`http://127.0.0.1:${sink.port}/stats`)).json();
}
export async function sinkReset(sink) {
  await (await fetch(`http://127.0.0.1:${sink.port}/reset`, { method: "POST" }))
    .text();
}

// What the "+ metrics" rows add: OTLP metrics to the same sink (initTracer
// derives …/v1/metrics from the traces URL), exported every second.
export const METRICS_EVERY_1S = {
  OTEL_METRICS_EXPORTER: "otlp",
  OTEL_METRIC_EXPORT_INTERVAL: "1000",
};
export const metricPosts = (st) => st.byPath?.["/v1/metrics"] ?? 0;

// Runs bench/sse_load.mjs on the client core and returns its JSON report.
// With `srv`, the server's loop lag over the measured window is read when
// the load generator marks its start and end (`lag` in the report).
export async function sseLoad(url, clients, durationS, warmupMs, srv) {
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
