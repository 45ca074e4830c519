// Section 6 ("unpinned", opt-in): trivial and paced again with no process
// pinned to a core.
import {
  envNum,
  kill,
  NODE,
  REPEATS,
  results,
  setPinning,
  start,
  waitLine,
} from "../lib/harness.mjs";
import { streamConfigs, streamSection } from "../lib/streams.mjs";
import { trivialConfigs, trivialRuns, trivialTable } from "./trivial.mjs";
import {
  PACE_MS,
  PACED_CLIENTS,
  PACED_OPTS,
  PACED_TOKENS,
  pacedTable,
} from "./paced.mjs";
import { cpus } from "node:os";

export const UNPINNED_REPEATS = envNum(
  "BENCH_UNPINNED_REPEATS",
  Math.min(REPEATS, 2),
);

// Section "unpinned": the second configuration, no process pinned to
// a core (the scheduler spreads server, load generator and sink over both):
// trivial and paced, untraced vs traced, fewer repeats, its own sink.
export async function run() {
  const saved = setPinning(false);
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
    setPinning(saved);
    await kill(sink2);
  }
}

export function report(L, { lagText }) {
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
}
