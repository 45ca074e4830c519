// In-process cost of traceHandler per request, without the network: the
// same trivial handler called with and without traceHandler (tracing on,
// exporting to a loopback sink that answers 200 without decoding), with a
// macrotask every 512 calls (OTEL_BSP_MAX_QUEUE_SIZE is raised so that no span is dropped) so exports run. Prints ns per request and the
// difference. For profiling: `bun --cpu-prof-md bench/handler_cost.ts`,
// `deno run -A --v8-flags=--prof bench/handler_cost.ts`.
import { initTracer, shutdownTracing, traceHandler } from "../mod.ts";
import { startServer } from "../tests/support/servers.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const sinkHandler = async (req: Request) => {
  await req.arrayBuffer();
  return new Response(null, { status: 200 });
};
const sink = startServer(sinkHandler);
const port = sink.port;
const stop = () => sink.stop();
await initTracer(
  "bench.cost",
  `http://127.0.0.1:${port}/v1/traces`,
  undefined,
  {
    flushOnExit: false,
  },
);

const plain = (_req: Request) => new Response("ok");
const traced = traceHandler(plain);
const info = { remoteAddr: { hostname: "127.0.0.1", port: 50000 } };
const URL_ = "http://127.0.0.1:8000/";
const headers = { "user-agent": "wrk", accept: "*/*" };

async function run(
  h: (req: Request, i: unknown) => Response | Promise<Response>,
  n: number,
) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const res = h(new Request(URL_, { headers }), info) as Response;
    if (!(res instanceof Response)) throw new Error("not a response");
    if ((i & 511) === 511) await new Promise((r) => setTimeout(r, 0));
  }
  return ((performance.now() - t0) * 1e6) / n;
}

const N = Number(
  g.Deno ? g.Deno.env.get("N") ?? 100000 : g.process.env.N ?? 100000,
);
await run(plain, 20000);
await run(traced, 20000);
const rows: Record<string, number[]> = { plain: [], traced: [] };
for (let k = 0; k < 5; k++) {
  rows.plain.push(await run(plain, N));
  rows.traced.push(await run(traced, N));
}
const med = (v: number[]) => v.sort((a, b) => a - b)[2];
const p = med(rows.plain);
const t = med(rows.traced);
console.log(
  `${g.Deno ? "deno" : "bun"}: plain ${p.toFixed(0)} ns, traced ${
    t.toFixed(0)
  } ns, ` +
    `traceHandler adds ${(t - p).toFixed(0)} ns per request`,
);
await shutdownTracing();
await stop();
