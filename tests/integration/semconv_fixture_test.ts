// Every GenAI (and llmtrace.*) attribute llmtrace records, in each semconv
// mode, has the name and OTLP type of tests/fixtures/semconv_genai.json (the
// conventions as pinned there, with their commits): checked at the real
// receiver on the spans of a traced router (traceHandler + tracedFetch) in
// front of a traced engine that records vLLM's llm_request, over Chat
// Completions (JSON, streamed, cancelled), Messages, Gemini and Responses,
// content capture on. The latest mode emits no legacy name; the fixture
// lists nothing llmtrace does not emit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  forceFlush,
  recordRequestSpan,
  tracedFetch,
  traceHandler,
} from "../../mod.ts";
import type { ReceivedSpan } from "../support/otlp_receiver.ts";
import { createFakeLlm } from "../support/fake_llm.ts";
import { setEnv } from "../support/helpers.ts";
import { withServer } from "../support/servers.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";
import {
  ANTHROPIC_MODEL,
  GEMINI_MODEL,
  wireUpstream,
} from "../support/wire_apis.ts";

interface Entry {
  type: "string" | "int" | "double" | "boolean" | "string[]";
  status: "current" | "legacy" | "vllm" | "llmtrace";
}
const FIXTURE = JSON.parse(
  readFileSync(
    new URL("../fixtures/semconv_genai.json", import.meta.url),
    "utf8",
  ),
) as { attributes: Record<string, Entry> };

let t: Tracing;
useTracing("semconv-fixture-test", (ready) => (t = ready));

const OURS = /^(gen_ai|llmtrace)\./;

/** The receiver's type of `key` on `span`, in the fixture's words. */
function typeOf(span: ReceivedSpan, key: string): string {
  const type = span.attributeTypes[key];
  if (type === "bool") return "boolean";
  if (type !== "array") return type;
  const v = span.attributes[key] as unknown[];
  return v.every((x) => typeof x === "string") ? "string[]" : "array";
}

/** Runs the scenario with `OTEL_SEMCONV_STABILITY_OPT_IN` as given. */
async function scenario(mode: "dual" | "latest"): Promise<ReceivedSpan[]> {
  const restore = setEnv({
    OTEL_SEMCONV_STABILITY_OPT_IN: mode === "latest"
      ? "gen_ai_latest_experimental"
      : undefined,
  });
  const tag = { "test.mode": mode };
  try {
    const llm = createFakeLlm({ delayMs: 2, pieces: ["a", "b", "c"] });
    const wire = wireUpstream({ firstContentDelayMs: 2 });
    const engine = traceHandler(async (req: Request) => {
      const path = new URL(req.url).pathname;
      if (!path.endsWith("/chat/completions")) return await wire.handler(req);
      const t0 = Date.now() - 100;
      recordRequestSpan({
        requestId: `semconv-${mode}`,
        request: req,
        model: "m",
        temperature: 0.5,
        topP: 1,
        maxTokens: 16,
        n: 1,
        promptTokens: 11,
        completionTokens: 3,
        attributes: tag,
        timings: {
          arrival: t0,
          queued: t0 + 1,
          scheduled: t0 + 5,
          firstToken: t0 + 20,
          lastToken: t0 + 90,
          finished: t0 + 100,
        },
      });
      return await llm.handler(req);
    }, { captureContent: true, attributes: tag });
    await withServer(engine, async (e) => {
      const router = traceHandler(async (req: Request) => {
        const url = new URL(req.url);
        return await tracedFetch(`${e.origin}${url.pathname}${url.search}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: await req.text(),
        }, { request: req, captureContent: true, attributes: tag });
      }, { captureContent: true, attributes: tag });
      await withServer(router, async (r) => {
        const post = (path: string, body: unknown) =>
          fetch(`${r.origin}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          });
        const chat = {
          model: "m",
          messages: [{ role: "system", content: "S" }, {
            role: "user",
            content: "U",
          }],
          max_tokens: 16,
          temperature: 1,
          top_p: 1,
          top_k: 40,
          n: 2,
          seed: 7,
          stop: ["\n"],
          frequency_penalty: 0,
          presence_penalty: 0,
          response_format: { type: "json_object" },
          reasoning_effort: "low",
        };
        await (await post("/v1/chat/completions", chat)).text();
        await (await post("/v1/chat/completions", {
          ...chat,
          n: 1,
          stream: true,
          stream_options: { include_usage: true },
        })).text();
        // A client that stops generating: llmtrace.response.cancelled.
        const res = await post("/v1/chat/completions", {
          model: "m",
          stream: true,
          messages: [{ role: "user", content: "U" }],
        });
        const reader = res.body!.getReader();
        await reader.read();
        await reader.cancel();
        await (await post("/v1/messages", {
          model: ANTHROPIC_MODEL,
          max_tokens: 64,
          top_k: 5,
          system: "Be brief.",
          messages: [{ role: "user", content: "Hi" }],
        })).text();
        await (await post(
          `/v1beta/models/${GEMINI_MODEL}:streamGenerateContent?alt=sse`,
          {
            contents: [{ role: "user", parts: [{ text: "Hi" }] }],
            generationConfig: { topK: 3, responseMimeType: "application/json" },
          },
        )).text();
        await (await post("/v1/responses", {
          model: "gpt-4.1",
          input: "Hi",
          instructions: "Be brief.",
          reasoning: { effort: "medium" },
          previous_response_id: "resp_0",
        })).text();
      });
    });
  } finally {
    restore();
  }
  await forceFlush();
  // 6 calls: router SERVER + CLIENT + engine SERVER each, llm_request for 3.
  return await t.receiver.waitForSpans(
    (all) => all.filter((s) => s.attributes["test.mode"] === mode).length >= 21,
    { timeoutMs: 15_000, message: `the ${mode} scenario's spans` },
  ).then((all) => all.filter((s) => s.attributes["test.mode"] === mode));
}

test("every GenAI attribute emitted has the fixture's name and type, in both modes; latest emits no legacy name", async () => {
  const seen = new Set<string>();
  for (const mode of ["dual", "latest"] as const) {
    const spans = await scenario(mode);
    const problems: string[] = [];
    for (const s of spans) {
      for (const key of Object.keys(s.attributes)) {
        if (!OURS.test(key)) continue;
        seen.add(key);
        const want = FIXTURE.attributes[key];
        if (!want) {
          problems.push(`${mode} ${s.name}: ${key} is not in the fixture`);
          continue;
        }
        const got = typeOf(s, key);
        if (got !== want.type) {
          problems.push(
            `${mode} ${s.name}: ${key} is ${got}, not ${want.type}`,
          );
        }
        if (mode === "latest" && want.status === "legacy") {
          problems.push(`latest ${s.name}: legacy ${key}`);
        }
      }
      // The client's time to first chunk never on a SERVER span (kind 2).
      if (
        s.kind === 2 && "gen_ai.response.time_to_first_chunk" in s.attributes
      ) {
        problems.push(
          `${mode} ${s.name}: time_to_first_chunk on a SERVER span`,
        );
      }
    }
    assert.deepEqual(problems, []);
    // top_k was sent by three APIs: an int each time, in every mode.
    assert.ok(
      spans.filter((s) => s.attributeTypes["gen_ai.request.top_k"] === "int")
        .length >= 3 * 3,
      `${mode}: top_k on the router's, the client's and the engine's spans`,
    );
  }
  const unseen = Object.keys(FIXTURE.attributes).filter((k) => !seen.has(k));
  assert.deepEqual(unseen, [], "the fixture lists only what llmtrace emits");
});
