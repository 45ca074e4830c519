// The whole chain on loopback, run the way a user runs the examples: the
// example inference server (traceHandler + recordRequestSpan), two example
// routers (traceHandler + tracedFetch; one whose first upstream is down) and
// the example client (official `openai` package) are processes of the
// runtime under test (`deno run -A` / `bun`), configured by their env knobs
// (PORT, UPSTREAM, ROUTER, STREAM, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). Each
// exports to this file's real OTLP/HTTP receiver; one trace across them.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  spanTree,
  startOtlpReceiver,
} from "../support/otlp_receiver.ts";
import {
  CLEAN_ENV,
  isDeno,
  repoRoot,
  setEnv,
  sleep,
  waitForExit,
} from "../support/helpers.ts";
import { deadPort } from "../support/servers.ts";
import { stopChild } from "../support/child_servers.ts";

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;
const UNSET = 0;
/** The model examples/client.ts asks for (its routers route every model). */
const MODEL = "llmtrace/demo-7b";

/** An example program running as a server process. */
interface ExampleServer {
  child: ChildProcess;
  port: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  log(): string;
}

let receiver: OtlpReceiver;
let restoreEnv = () => {};
let engine: ExampleServer | undefined;
let router: ExampleServer | undefined;
let flakyRouter: ExampleServer | undefined;
let dead: number;

/** The environment of every example process: no OTEL_* of this process. */
function exampleEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !(k in CLEAN_ENV)) env[k] = v;
  }
  return {
    ...env,
    NO_COLOR: "1",
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
    // Servers run until stopped: export soon, not after the default 5 s.
    OTEL_BSP_SCHEDULE_DELAY: "50",
    OTEL_METRICS_EXPORTER: "none",
    ...extra,
  };
}

function spawnExample(
  name: string,
  env: Record<string, string>,
): ChildProcess {
  const script = fileURLToPath(
    new URL(`../../examples/${name}`, import.meta.url),
  );
  return spawn(
    process.execPath,
    isDeno ? ["run", "-A", "--quiet", script] : [script],
    { cwd: repoRoot, env: exampleEnv(env), stdio: ["ignore", "pipe", "pipe"] },
  );
}

/** Whether something accepts TCP connections on the loopback `port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Starts an example server with `PORT=port` and waits (bounded, failing fast
 * if it exits) until it listens. A plain TCP probe: no request, no span.
 */
async function startExample(
  name: string,
  port: number,
  env: Record<string, string> = {},
): Promise<ExampleServer> {
  const child = spawnExample(name, { ...env, PORT: String(port) });
  let log = "";
  child.stdout?.on("data", (d) => (log += d));
  child.stderr?.on("data", (d) => (log += d));
  const server = {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    log: () => log,
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `examples/${name} exited early (${child.exitCode})\n${log}`,
      );
    }
    if (await listening(port)) return server;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`examples/${name} did not listen in 30 s\n${log}`);
    }
    await sleep(50);
  }
}

/** `n` distinct loopback ports with nothing listening (for the examples). */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let i = 0; ports.size < n && i < 100; i++) ports.add(await deadPort());
  assert.equal(ports.size, n, "distinct free ports");
  return [...ports];
}

before(async () => {
  receiver = await startOtlpReceiver();
  restoreEnv = setEnv({ ...CLEAN_ENV, OTEL_METRICS_EXPORTER: "none" });
  const [enginePort, routerPort, flakyPort, deadOne] = await freePorts(4);
  dead = deadOne;
  engine = await startExample("inference_server.ts", enginePort);
  [router, flakyRouter] = await Promise.all([
    startExample("router.ts", routerPort, { UPSTREAM: engine.url }),
    startExample("router.ts", flakyPort, {
      UPSTREAM: `http://127.0.0.1:${dead},${engine.url}`,
    }),
  ]);
});

after(async () => {
  try {
    for (const s of [flakyRouter, router, engine]) {
      if (s) await stopChild(s.child);
    }
  } finally {
    restoreEnv();
    await receiver?.close();
  }
});

/** What a client saw of its call. */
interface ChatResult {
  text: string;
  traceId: string;
  /** Output tokens from `usage`; for the example client, from its span. */
  completionTokens?: number;
  /** Prompt tokens from `usage` (the example client does not print them). */
  promptTokens?: number;
}

/**
 * Runs examples/client.ts against the router at `routerUrl` (`ROUTER`), one
 * call, streamed unless `stream` is false (`STREAM=0`); it prints
 * `<text> (trace <id>, tokens <in>→<out>)` and exits 0.
 */
async function runExampleClient(
  routerUrl: string,
  stream = true,
): Promise<ChatResult> {
  const child = spawnExample("client.ts", {
    ROUTER: routerUrl,
    STREAM: stream ? "1" : "0",
  });
  const r = await waitForExit(child, 30_000, "examples/client.ts");
  assert.equal(
    r.code,
    0,
    `examples/client.ts exited ${r.code} (${r.signal})\nstdout: ${r.stdout}\n` +
      `stderr: ${r.stderr}`,
  );
  const lines = r.stdout.trim().split("\n");
  const m = /^(.*) \(trace ([0-9a-f]{32}), tokens (\d+|\?)→(\d+|\?)\)$/
    .exec(lines[lines.length - 1]);
  assert.ok(
    m,
    `no "(trace …, tokens …)" line from examples/client.ts: ${r.stdout}`,
  );
  const count = (v: string) => v === "?" ? undefined : Number(v);
  return {
    text: m[1],
    traceId: m[2],
    promptTokens: count(m[3]),
    completionTokens: count(m[4]),
  };
}

/** Waits (bounded) for `n` spans of one trace. */
async function traceSpans(traceId: string, n: number): Promise<ReceivedSpan[]> {
  await receiver.waitForSpans(
    (s) => s.filter((x) => x.traceId === traceId).length >= n,
    { timeoutMs: 10_000, message: `${n} spans of trace ${traceId}` },
  );
  // A little longer (the example servers export every 50 ms): more spans
  // than expected would be a failure too.
  await sleep(200);
  return receiver.spans().filter((x) => x.traceId === traceId);
}

const SLACK_NS = 2_000_000n;
/**
 * Parent and child in different processes: each converts its monotonic clock
 * to epoch time from its own `performance.timeOrigin`, and a server span ends
 * when the runtime reports its body sent, which can come after the client has
 * read the whole answer and ended its own span.
 */
const CROSS_PROCESS_SLACK_NS = 20_000_000n;
/**
 * `child` lies within `parent`. `slackNs` covers spans timed on another clock
 * (the client's SDK-timed span; the engine's epoch-ms `Date.now()` timings).
 */
function within(
  child: ReceivedSpan,
  parent: ReceivedSpan,
  slackNs = 0n,
): void {
  assert.ok(
    child.startTimeUnixNano + slackNs >= parent.startTimeUnixNano,
    `${child.name} starts ${
      parent.startTimeUnixNano - child.startTimeUnixNano
    } ns before its parent ${parent.name}`,
  );
  assert.ok(
    child.endTimeUnixNano <= parent.endTimeUnixNano + slackNs,
    `${child.name} ends ${
      child.endTimeUnixNano - parent.endTimeUnixNano
    } ns after its parent ${parent.name}`,
  );
  assert.ok(child.startTimeUnixNano <= child.endTimeUnixNano);
}

interface Chain {
  client: ReceivedSpan;
  routerServer: ReceivedSpan;
  routerClients: ReceivedSpan[];
  engineServer: ReceivedSpan;
  llm: ReceivedSpan;
}

function pick(spans: ReceivedSpan[], result: ChatResult): Chain {
  const tree = spanTree(spans);
  const one = (label: string, pred: (s: ReceivedSpan) => boolean) => {
    const found = spans.filter(pred);
    assert.equal(found.length, 1, `one ${label} in\n${tree}`);
    return found[0];
  };
  const client = one("client span", (s) => s.name === "client chat");
  const routerServer = one(
    "router SERVER span",
    (s) =>
      s.kind === SERVER &&
      s.attributes["gen_ai.provider.name"] === "llmtrace-router",
  );
  const routerClients = spans.filter((s) =>
    s.kind === CLIENT && s.name !== "client chat"
  ).sort((a, b) => a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1);
  const engineServer = one(
    "engine SERVER span",
    (s) =>
      s.kind === SERVER && s.name === "POST /v1/chat/completions" &&
      s.attributes["gen_ai.provider.name"] === "vllm",
  );
  const llm = one("llm_request", (s) => s.name === "llm_request");
  assert.equal(client.traceId, result.traceId);
  // each span was exported by the process that made it
  assert.equal(routerServer.resource["service.name"], "llmtrace.router");
  for (const s of [engineServer, llm]) {
    assert.equal(s.resource["service.name"], "llmtrace.inference_server");
  }
  return { client, routerServer, routerClients, engineServer, llm };
}

/** What the client got (it prints its token counts) is what every span says. */
function checkTokens(c: Chain, r: ChatResult, routerClient: ReceivedSpan) {
  const completionTokens = r.completionTokens;
  const promptTokens = r.promptTokens;
  assert.ok(completionTokens !== undefined && completionTokens > 0);
  assert.ok(typeof promptTokens === "number" && promptTokens > 0);
  const named: [string, ReceivedSpan][] = [
    ["client", c.client],
    ["router SERVER", c.routerServer],
    ["router CLIENT", routerClient],
    ["engine SERVER", c.engineServer],
    ["llm_request", c.llm],
  ];
  for (const [label, s] of named) {
    assert.equal(
      s.attributes["gen_ai.usage.output_tokens"],
      completionTokens,
      `${label} output tokens`,
    );
  }
  for (const [label, s] of named.slice(1)) {
    assert.equal(
      s.attributes["gen_ai.usage.input_tokens"],
      promptTokens,
      `${label} input tokens`,
    );
  }
}

for (const stream of [false, true]) {
  test(`${stream ? "streamed" : "non-streamed"}: client → router → engine → llm_request is one trace with the right parents and times`, async () => {
    const first = await runExampleClient(router!.url, stream);
    // max_tokens: 12 streamed (examples/client.ts), 8 not; the engine's
    // deterministic words
    const expectedTokens = stream ? 12 : 8;
    assert.ok(
      first.text.startsWith("Tracing shows where the time"),
      first.text,
    );

    const spans = await traceSpans(first.traceId, 5);
    assert.equal(spans.length, 5, spanTree(spans));
    const c = pick(spans, first);
    const r = first;
    assert.equal(r.completionTokens, expectedTokens);
    // what the client printed is what it put on its span
    assert.equal(
      c.client.attributes["gen_ai.usage.output_tokens"],
      r.completionTokens,
    );
    // the example client did not cancel
    assert.equal(c.client.attributes["error.type"], undefined);
    assert.equal(c.client.resource["service.name"], "llmtrace.client");
    assert.equal(c.routerClients.length, 1, spanTree(spans));
    const rc = c.routerClients[0];

    // parents
    assert.equal(c.client.kind, CLIENT);
    assert.equal(c.client.parentSpanId, undefined);
    assert.equal(c.routerServer.parentSpanId, c.client.spanId);
    assert.equal(rc.parentSpanId, c.routerServer.spanId);
    assert.equal(c.engineServer.parentSpanId, rc.spanId);
    assert.equal(c.llm.parentSpanId, c.engineServer.spanId);
    assert.equal(c.llm.kind, SERVER);

    // names and HTTP
    assert.equal(c.routerServer.name, "POST /v1/chat/completions");
    assert.equal(rc.name, `chat ${MODEL}`);
    assert.equal(rc.attributes["http.response.status_code"], 200);
    assert.equal(
      rc.attributes["url.full"],
      `${engine!.url}/v1/chat/completions`,
    );
    // the openai client sends `stream` only when streaming
    assert.equal(
      rc.attributes["gen_ai.request.stream"],
      stream ? true : undefined,
    );
    assert.equal(rc.attributes["http.request.resend_count"], undefined);
    for (const s of spans) {
      assert.equal(s.status.code, UNSET, `${s.name} status`);
    }

    // times: each child within its parent
    within(c.routerServer, c.client, CROSS_PROCESS_SLACK_NS);
    within(rc, c.routerServer);
    within(c.engineServer, rc, CROSS_PROCESS_SLACK_NS);
    within(c.llm, c.engineServer, SLACK_NS);

    // tokens: what the client got is what every span says
    checkTokens(c, r, rc);

    if (stream) {
      const ttftRouter = rc.attributes["gen_ai.response.time_to_first_chunk"];
      const ttftEngine = c.llm.attributes["gen_ai.latency.time_to_first_token"];
      assert.equal(typeof ttftRouter, "number");
      assert.equal(typeof ttftEngine, "number");
      // prefill is 30 ms (the example server's default): nobody sees the
      // first token sooner than 15 ms
      assert.ok((ttftRouter as number) >= 0.014, `router ttft ${ttftRouter}`);
      assert.ok((ttftEngine as number) >= 0.014, `engine ttft ${ttftEngine}`);
      // 12 tokens × 8 ms decode after the first
      const decode = c.llm.attributes["gen_ai.latency.time_in_model_decode"];
      assert.ok((decode as number) >= 0.03, `decode ${decode}`);
      assert.ok(
        (rc.attributes["llmtrace.response.chunks"] as number) >= 12,
        `chunks ${rc.attributes["llmtrace.response.chunks"]}`,
      );
    } else {
      assert.equal(c.llm.attributes["gen_ai.request.temperature"], 0);
      assert.equal(rc.attributes["gen_ai.request.temperature"], 0);
    }
    assert.deepEqual(c.llm.attributes["gen_ai.response.finish_reasons"], [
      "length",
    ]);
    assert.equal(c.llm.attributes["gen_ai.request.model"], MODEL);
  });
}

test("fallback: the first upstream is down; two router CLIENT spans, the first with error.type, the second 200", async () => {
  const first = await runExampleClient(flakyRouter!.url);

  const spans = await traceSpans(first.traceId, 6);
  assert.equal(spans.length, 6, spanTree(spans));
  const c = pick(spans, first);
  assert.equal(first.completionTokens, 12);
  const r = first;
  assert.equal(c.routerClients.length, 2, spanTree(spans));
  const [failed, ok] = c.routerClients;
  for (const rc of [failed, ok]) {
    assert.equal(rc.parentSpanId, c.routerServer.spanId);
    assert.equal(rc.name, `chat ${MODEL}`);
    within(rc, c.routerServer);
  }
  // the dead upstream
  assert.equal(failed.attributes["server.port"], dead);
  assert.equal(failed.status.code, ERROR);
  assert.equal(typeof failed.attributes["error.type"], "string");
  assert.notEqual(failed.attributes["error.type"], "");
  assert.equal(failed.attributes["http.response.status_code"], undefined);
  assert.equal(failed.attributes["http.request.resend_count"], undefined);
  assert.ok(failed.events.some((e) => e.name === "exception"));
  // the fallback
  assert.equal(ok.attributes["server.port"], engine!.port);
  assert.equal(ok.attributes["http.response.status_code"], 200);
  assert.equal(ok.attributes["http.request.resend_count"], 1);
  assert.equal(ok.attributes["error.type"], undefined);
  assert.equal(ok.status.code, UNSET);
  assert.ok(failed.endTimeUnixNano <= ok.startTimeUnixNano);
  // the engine was reached through the second attempt only
  assert.equal(c.engineServer.parentSpanId, ok.spanId);
  assert.equal(c.llm.parentSpanId, c.engineServer.spanId);
  assert.equal(c.routerServer.parentSpanId, c.client.spanId);
  within(c.engineServer, ok, CROSS_PROCESS_SLACK_NS);
  within(c.llm, c.engineServer, SLACK_NS);
  within(c.routerServer, c.client, CROSS_PROCESS_SLACK_NS);
  // the router answered 200 in the end
  assert.equal(c.routerServer.attributes["http.response.status_code"], 200);
  assert.equal(c.routerServer.status.code, UNSET);
  checkTokens(c, r, ok);
});
