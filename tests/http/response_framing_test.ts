// traceHandler keeps a JSON response's framing as the handler made it: a
// Content-Length answer stays a Content-Length answer (not chunked), also
// when a router hands on tracedFetch's upstream response; the usage is still
// read (through a clone) onto the spans.
import { test } from "node:test";
import assert from "node:assert/strict";
import { forceFlush, tracedFetch, traceHandler } from "../../mod.ts";
import { withServer } from "../support/servers.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";

let t: Tracing;
useTracing("response-framing-test", (ready) => (t = ready), {
  OTEL_METRICS_EXPORTER: "none",
});

const ANSWER = {
  id: "chatcmpl-framing",
  model: "m",
  choices: [{ index: 0, message: { content: "hi" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 2 },
  pad: "x".repeat(4000),
};
const TEXT = JSON.stringify(ANSWER);
const LENGTH = new TextEncoder().encode(TEXT).byteLength;

async function check(origin: string, label: string): Promise<void> {
  const res = await fetch(`${origin}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m" }),
  });
  assert.equal(await res.text(), TEXT, label);
  assert.equal(res.headers.get("content-length"), String(LENGTH), label);
  assert.equal(res.headers.get("transfer-encoding"), null, label);
}

test("a static JSON body and a stream with Content-Length keep their framing", async () => {
  const handlers: Record<string, (req: Request) => Response> = {
    static: () => Response.json(ANSWER),
    declared: () =>
      new Response(new Response(TEXT).body, {
        headers: {
          "content-type": "application/json",
          "content-length": String(LENGTH),
        },
      }),
  };
  for (const [label, make] of Object.entries(handlers)) {
    const h = traceHandler(async (req: Request) => {
      await req.text();
      return make(req);
    }, { attributes: { "test.case": `framing ${label}` } });
    await withServer(h, (s) => check(s.origin, label));
  }
  await forceFlush();
  const spans = await t.receiver.waitForSpans((all) =>
    ["static", "declared"].every((l) =>
      all.some((s) => s.attributes["test.case"] === `framing ${l}`)
    )
  );
  for (const label of ["static", "declared"]) {
    const s = spans.find((x) =>
      x.attributes["test.case"] === `framing ${label}`
    )!;
    assert.equal(s.attributes["gen_ai.usage.output_tokens"], 2, label);
    assert.equal(s.attributes["gen_ai.response.id"], "chatcmpl-framing", label);
    assert.equal(s.attributes["http.response.body.size"], LENGTH, label);
  }
});

test("a router handing on tracedFetch's JSON answer keeps the upstream's Content-Length", async () => {
  await withServer(() => Response.json(ANSWER), async (up) => {
    const router = traceHandler(
      async (req: Request) =>
        await tracedFetch(`${up.origin}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: await req.text(),
        }, { request: req, attributes: { "test.case": "framing routed" } }),
      {
        attributes: { "test.case": "framing routed" },
      },
    );
    await withServer(router, (r) => check(r.origin, "routed"));
  });
  await forceFlush();
  const spans =
    (await t.receiver.waitForSpans((all) =>
      all.filter((s) => s.attributes["test.case"] === "framing routed")
        .length >= 2
    )).filter((s) => s.attributes["test.case"] === "framing routed");
  for (const s of spans) {
    assert.equal(s.attributes["gen_ai.usage.input_tokens"], 5, s.name);
    assert.equal(s.status.code, 0, s.name);
  }
});
