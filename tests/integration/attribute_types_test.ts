// Each GenAI attribute goes out with one OTLP type on every span, the type
// the semantic-conventions registry gives it (model/gen-ai/registry.yaml,
// v1.41.1, typed by hand here from the YAML: nothing on npm carries it):
// whole numbers under a double-typed key are still doubles, token counts
// and other integers are ints. Checked at the receiver on the three kinds of
// span llmtrace records: traceHandler's, tracedFetch's and llm_request.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  forceFlush,
  recordRequestSpan,
  tracedFetch,
  traceHandler,
} from "../../mod.ts";
import type { ReceivedSpan } from "../support/otlp_receiver.ts";
import { withServer } from "../support/servers.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";

let t: Tracing;
useTracing("attribute-types-test", (ready) => (t = ready), {
  OTEL_METRICS_EXPORTER: "none",
});

/** The registry's types (and vLLM's float latencies). */
const EXPECTED: Record<string, "double" | "int"> = {
  "gen_ai.request.temperature": "double",
  "gen_ai.request.top_p": "double",
  "gen_ai.request.frequency_penalty": "double",
  "gen_ai.request.presence_penalty": "double",
  "gen_ai.response.time_to_first_chunk": "double",
  "gen_ai.latency.time_in_queue": "double",
  "gen_ai.latency.time_to_first_token": "double",
  "gen_ai.latency.e2e": "double",
  "gen_ai.latency.time_in_model_prefill": "double",
  "gen_ai.latency.time_in_model_decode": "double",
  "gen_ai.latency.time_in_model_inference": "double",
  // An int since semantic-conventions-genai #217 (the v1.41.1 YAML still
  // says double), in every mode.
  "gen_ai.request.top_k": "int",
  "gen_ai.request.max_tokens": "int",
  "gen_ai.request.choice.count": "int",
  "gen_ai.request.seed": "int",
  "gen_ai.usage.input_tokens": "int",
  "gen_ai.usage.output_tokens": "int",
  "gen_ai.usage.prompt_tokens": "int",
  "gen_ai.usage.completion_tokens": "int",
  "http.response.status_code": "int",
  "server.port": "int",
};

const BODY = {
  model: "m",
  temperature: 1,
  top_p: 1,
  top_k: 40,
  frequency_penalty: 0,
  presence_penalty: 0,
  max_tokens: 16,
  n: 1,
  seed: 7,
  messages: [{ role: "user", content: "hi" }],
};

function checkTypes(span: ReceivedSpan, keys: string[]): void {
  for (const k of keys) {
    assert.ok(k in span.attributes, `${span.name}: ${k} recorded`);
    assert.equal(span.attributeTypes[k], EXPECTED[k], `${span.name}: ${k}`);
  }
}

test("whole numbers under double-typed GenAI keys go out as doubles on every span", async () => {
  const upstream = () =>
    Response.json({
      id: "c",
      model: "m",
      choices: [{ index: 0, message: { content: "x" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 1 },
    });
  await withServer(upstream, async (up) => {
    const router = traceHandler(async (req: Request) => {
      const t0 = Date.now() - 1000;
      recordRequestSpan({
        requestId: "types-1",
        request: req,
        model: "m",
        temperature: 1,
        topP: 1,
        maxTokens: 16,
        n: 1,
        promptTokens: 3,
        completionTokens: 1,
        // every latency a whole number of seconds (0 or 1)
        timings: {
          arrival: t0,
          queued: t0,
          scheduled: t0,
          firstToken: t0,
          lastToken: t0 + 1000,
          finished: t0 + 1000,
        },
      });
      return await tracedFetch(`${up.origin}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: await req.text(),
      }, { request: req });
    }, { attributes: { "test.case": "types" } });
    await withServer(router, async (r) => {
      const res = await fetch(`${r.origin}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(BODY),
      });
      await res.text();
      await forceFlush();
      const spans = await t.receiver.waitForSpans((all) =>
        ["llm_request", "chat m"].every((n) => all.some((s) => s.name === n)) &&
        all.some((s) => s.attributes["test.case"] === "types")
      );
      const server = spans.find((s) => s.attributes["test.case"] === "types")!;
      const client = spans.find((s) => s.name === "chat m")!;
      const engine = spans.find((s) => s.name === "llm_request")!;
      const request = [
        "gen_ai.request.temperature",
        "gen_ai.request.top_p",
        "gen_ai.request.top_k",
        "gen_ai.request.frequency_penalty",
        "gen_ai.request.presence_penalty",
        "gen_ai.request.max_tokens",
        "gen_ai.request.choice.count",
        "gen_ai.request.seed",
      ];
      const usage = [
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.prompt_tokens",
        "gen_ai.usage.completion_tokens",
      ];
      checkTypes(server, [...request, ...usage, "http.response.status_code"]);
      checkTypes(client, [...request, ...usage, "server.port"]);
      checkTypes(engine, [
        "gen_ai.request.temperature",
        "gen_ai.request.top_p",
        "gen_ai.request.max_tokens",
        "gen_ai.latency.time_in_queue",
        "gen_ai.latency.time_to_first_token",
        "gen_ai.latency.e2e",
        "gen_ai.latency.time_in_model_prefill",
        "gen_ai.latency.time_in_model_decode",
        "gen_ai.latency.time_in_model_inference",
        ...usage,
      ]);
      assert.equal(engine.attributes["gen_ai.latency.e2e"], 1);
      assert.equal(engine.attributes["gen_ai.latency.time_in_queue"], 0);
    });
  });
});
