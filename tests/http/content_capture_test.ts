// Content capture through a traced router and engine, at the real receiver:
// OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT turns it on when the
// captureContent option is not given (true/false, any case; anything else is
// warned about, naming the value), the option wins, and captured content is
// cut to the attribute value length limit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tracedFetch } from "../../mod.ts";
import type { OtlpReceiver } from "../support/otlp_receiver.ts";
import { useTracing } from "../support/tracing.ts";
import { createFakeLlm } from "../support/fake_llm.ts";
import { captureWarnings, setEnv } from "../support/helpers.ts";
import { withServer } from "../support/servers.ts";
import { newId, serverSpanQueries, traced } from "./server_support.ts";

const LIMIT = 300;
let receiver: OtlpReceiver;
useTracing("content-capture-test", (t) => (receiver = t.receiver), {
  OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: String(LIMIT),
});
const { waitFor } = serverSpanQueries(() => receiver);

const VAR = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

/** One chat call through a router to an engine, both traced with `id`. */
async function through(
  id: string,
  env: string | undefined,
  option: boolean | undefined,
  content = "Say hello.",
) {
  const restore = setEnv({ [VAR]: env });
  try {
    const llm = createFakeLlm({ delayMs: 1 });
    const engine = traced(
      id,
      llm.handler,
      option === undefined ? {} : { captureContent: option },
    );
    await withServer(engine, async (e) => {
      const router = traced(
        id,
        async (req) =>
          await tracedFetch(`${e.origin}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: await req.text(),
          }, {
            request: req,
            attributes: { "test.id": id },
            ...(option === undefined ? {} : { captureContent: option }),
          }),
        option === undefined ? {} : { captureContent: option },
      );
      await withServer(router, async (r) => {
        const res = await fetch(`${r.origin}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "fake-model",
            messages: [{ role: "user", content }],
          }),
        });
        await res.arrayBuffer();
      });
    });
  } finally {
    restore();
  }
  return await waitFor(`3 spans of ${id}`, (all) => {
    const mine = all.filter((s) => s.attributes["test.id"] === id);
    return mine.length >= 3 ? mine : undefined;
  });
}

const captured = (s: { attributes: Record<string, unknown> }) =>
  s.attributes["gen_ai.input.messages"] !== undefined &&
  s.attributes["gen_ai.output.messages"] !== undefined;

test(`${VAR}=TRUE turns capture on for traceHandler and tracedFetch, in the parts schema`, async () => {
  const spans = await through(newId("env-true"), "TRUE", undefined);
  assert.equal(spans.length, 3);
  for (const s of spans) {
    assert.ok(captured(s), s.name);
    assert.deepEqual(
      JSON.parse(s.attributes["gen_ai.input.messages"] as string),
      [{ role: "user", parts: [{ type: "text", content: "Say hello." }] }],
    );
    const out = JSON.parse(s.attributes["gen_ai.output.messages"] as string);
    assert.equal(out.length, 1);
    assert.equal(out[0].role, "assistant");
    assert.equal("finish_reason" in out[0], false, "deprecated in messages");
  }
});

test("the captureContent option wins over the variable; false and unset record nothing", async () => {
  for (
    const [label, env, option] of [
      ["option-false", "true", false],
      ["env-false", "False", undefined],
      ["env-unset", undefined, undefined],
    ] as const
  ) {
    const spans = await through(newId(label), env, option);
    for (const s of spans) {
      assert.equal(s.attributes["gen_ai.input.messages"], undefined, label);
      assert.equal(s.attributes["gen_ai.output.messages"], undefined, label);
    }
  }
  const on = await through(newId("option-true"), "false", true);
  for (const s of on) assert.ok(captured(s), `option true: ${s.name}`);
});

test(`${VAR}=yes is warned about, naming the value, and records nothing`, async () => {
  const { result: spans, warnings } = await captureWarnings(() =>
    through(newId("env-bad"), "yes", undefined)
  );
  for (const s of spans) {
    assert.equal(s.attributes["gen_ai.input.messages"], undefined);
  }
  assert.ok(
    warnings.some((w) => w.includes(`${VAR}='yes'`) && w.includes("'true'")),
    warnings.join("\n"),
  );
});

test("captured content is cut to the attribute value length limit", async () => {
  const long = "x".repeat(LIMIT * 3);
  const spans = await through(newId("env-long"), "true", undefined, long);
  for (const s of spans) {
    const input = s.attributes["gen_ai.input.messages"] as string;
    assert.equal(input.length, LIMIT, s.name);
    assert.ok(input.endsWith("…"), s.name);
  }
});
