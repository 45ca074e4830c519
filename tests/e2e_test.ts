// The whole chain on loopback: the example client (official `openai`
// package) → the example router (traceHandler + tracedFetch) → the example
// inference server (traceHandler + recordRequestSpan), one trace, checked as
// a real OTLP/HTTP receiver decoded it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { forceFlush, initTracer, shutdownTracing } from "../mod.ts";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  spanTree,
  startOtlpReceiver,
} from "./support/otlp_receiver.ts";
import { chat, type ChatResult } from "../examples/client.ts";
import { createInferenceServer } from "../examples/inference_server.ts";
import { createRouter } from "../examples/router.ts";
import { deadPort, type RunningServer, serve } from "../examples/serve.ts";

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;
const UNSET = 0;
const MODEL = "llmtrace/e2e-7b";
const FLAKY = "llmtrace/e2e-7b-flaky";

let receiver: OtlpReceiver;
let engine: RunningServer | undefined;
let router: RunningServer | undefined;
let dead: number;

before(async () => {
  receiver = await startOtlpReceiver();
  await initTracer("e2e-test", receiver.url);
  engine = await serve(createInferenceServer({
    slots: 2,
    prefillMs: 15,
    decodeMsPerToken: 3,
  }));
  dead = await deadPort();
  router = await serve(createRouter({
    routes: { [FLAKY]: [`http://127.0.0.1:${dead}`, engine.url] },
    fallback: [engine.url],
  }));
});

after(async () => {
  await router?.close();
  await engine?.close();
  await shutdownTracing();
  await receiver.close();
});

/** Flushes and waits (bounded) for `n` spans of one trace. */
async function traceSpans(traceId: string, n: number): Promise<ReceivedSpan[]> {
  await forceFlush();
  await receiver.waitForSpans(
    (s) => s.filter((x) => x.traceId === traceId).length >= n,
    { timeoutMs: 10_000, message: `${n} spans of trace ${traceId}` },
  );
  // A little longer: more spans than expected would be a failure too.
  await new Promise((r) => setTimeout(r, 50));
  await forceFlush();
  return receiver.spans().filter((x) => x.traceId === traceId);
}

const SLACK_NS = 2_000_000n;
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
  return { client, routerServer, routerClients, engineServer, llm };
}

function checkTokens(c: Chain, r: ChatResult, routerClient: ReceivedSpan) {
  assert.ok(r.completionTokens !== undefined && r.completionTokens > 0);
  assert.ok(r.promptTokens !== undefined && r.promptTokens > 0);
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
      r.completionTokens,
      `${label} output tokens`,
    );
  }
  for (const [label, s] of named.slice(1)) {
    assert.equal(
      s.attributes["gen_ai.usage.input_tokens"],
      r.promptTokens,
      `${label} input tokens`,
    );
  }
}

for (const stream of [false, true]) {
  test(`${stream ? "streamed" : "non-streamed"}: client → router → engine → llm_request is one trace with the right parents and times`, async () => {
    const r = await chat({
      baseURL: `${router!.url}/v1`,
      model: MODEL,
      stream,
    });
    assert.equal(r.cancelled, false);
    // max_tokens: 12 streamed, 8 not (examples/client.ts); the engine's
    // deterministic words
    const expectedTokens = stream ? 12 : 8;
    assert.equal(r.completionTokens, expectedTokens);
    assert.ok(r.text.startsWith("Tracing shows where the time"), r.text);

    const spans = await traceSpans(r.traceId, 5);
    assert.equal(spans.length, 5, spanTree(spans));
    const c = pick(spans, r);
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
    within(c.routerServer, c.client, SLACK_NS);
    within(rc, c.routerServer);
    within(c.engineServer, rc);
    within(c.llm, c.engineServer, SLACK_NS);

    // tokens: what the client got is what every span says
    checkTokens(c, r, rc);

    if (stream) {
      const ttftRouter = rc.attributes["gen_ai.response.time_to_first_chunk"];
      const ttftEngine = c.llm.attributes["gen_ai.latency.time_to_first_token"];
      assert.equal(typeof ttftRouter, "number");
      assert.equal(typeof ttftEngine, "number");
      // prefill is 15 ms: nobody sees the first token sooner
      assert.ok((ttftRouter as number) >= 0.014, `router ttft ${ttftRouter}`);
      assert.ok((ttftEngine as number) >= 0.014, `engine ttft ${ttftEngine}`);
      // 12 tokens × 3 ms decode after the first
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
  const r = await chat({
    baseURL: `${router!.url}/v1`,
    model: FLAKY,
    stream: true,
  });
  assert.equal(r.completionTokens, 12);

  const spans = await traceSpans(r.traceId, 6);
  assert.equal(spans.length, 6, spanTree(spans));
  const c = pick(spans, r);
  assert.equal(c.routerClients.length, 2, spanTree(spans));
  const [failed, ok] = c.routerClients;
  for (const rc of [failed, ok]) {
    assert.equal(rc.parentSpanId, c.routerServer.spanId);
    assert.equal(rc.name, `chat ${FLAKY}`);
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
  within(c.engineServer, ok);
  within(c.llm, c.engineServer, SLACK_NS);
  within(c.routerServer, c.client, SLACK_NS);
  // the router answered 200 in the end
  assert.equal(c.routerServer.attributes["http.response.status_code"], 200);
  assert.equal(c.routerServer.status.code, UNSET);
  checkTokens(c, r, ok);
});
