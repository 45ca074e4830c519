// Every attribute and span name llmtrace records is bounded: a 1 MB model
// name, a 100 kB path, header, user agent or route, and a user's 100 kB
// attribute go out cut to the attribute value length limit (4096 by
// default, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT overrides it) and span names to
// 256; the request itself reaches the handler and upstream whole.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  forceFlush,
  initTracer,
  instrument,
  recordRequestSpan,
  shutdownTracing,
  tracedFetch,
  traceHandler,
} from "../../mod.ts";
import {
  DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT,
  refreshLimits,
  SPAN_NAME_LENGTH_LIMIT,
} from "../../src/core/limits.ts";
import {
  type ReceivedSpan,
  startOtlpReceiver,
} from "../support/otlp_receiver.ts";
import { withServer } from "../support/servers.ts";
import { CLEAN_ENV, setEnv } from "../support/helpers.ts";

const HUGE_MODEL = "m".repeat(1_000_000);
const LONG = "p".repeat(100_000);
// What servers and clients let through in a URL and a header (Bun refuses
// request heads over 16 KiB): still over the limit.
const LONG_PATH = "q".repeat(6_000);
const LONG_HEADER = "h".repeat(4_500);

function longestString(span: ReceivedSpan): number {
  let max = 0;
  for (const v of Object.values(span.attributes)) {
    for (const x of Array.isArray(v) ? v : [v]) {
      if (typeof x === "string") max = Math.max(max, x.length);
    }
  }
  return max;
}

async function run(limit: number, env: Record<string, string>) {
  const rx = await startOtlpReceiver();
  const restore = setEnv({
    ...CLEAN_ENV,
    OTEL_METRICS_EXPORTER: "none",
    ...env,
  });
  let upstreamGot = 0;
  let handlerGot = 0;
  try {
    await initTracer("test.limits", rx.url);
    const upstream = async (req: Request) => {
      upstreamGot = (await req.text()).length;
      return Response.json({
        id: "x".repeat(50_000),
        model: HUGE_MODEL,
        choices: [],
      });
    };
    await withServer(upstream, async (up) => {
      const handler = traceHandler(async (req: Request) => {
        const body = await req.text();
        handlerGot = body.length;
        recordRequestSpan({
          requestId: LONG,
          request: req,
          model: HUGE_MODEL,
          attributes: { "user.note": LONG },
          timings: { arrival: Date.now() - 5 },
        });
        instrument(() => 1, {
          spanName: LONG,
          attributes: { "user.note": LONG },
        })();
        return await tracedFetch(`${up.origin}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        }, { request: req });
      }, {
        route: (req) =>
          new URL(req.url).pathname.startsWith("/r/") ? LONG : undefined,
        captureHeaders: ["x-long"],
        attributes: { "app.long": LONG },
      });
      await withServer(handler, async (s) => {
        const body = JSON.stringify({ model: HUGE_MODEL, messages: [] });
        for (
          const path of [
            `/${LONG_PATH}/v1/chat/completions`,
            `/r/v1/chat/completions`,
          ]
        ) {
          const res = await fetch(`${s.origin}${path}`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "user-agent": LONG_HEADER,
              "x-long": LONG_HEADER,
            },
            body,
          });
          assert.equal(res.status, 200);
          await res.arrayBuffer();
          assert.equal(
            handlerGot,
            body.length,
            "the handler got the whole body",
          );
          assert.equal(
            upstreamGot,
            body.length,
            "the upstream got the whole body",
          );
        }
      });
    });
    await forceFlush();
    const spans = await rx.waitForSpans((all) => all.length >= 8);
    for (const span of spans) {
      assert.ok(
        span.name.length <= SPAN_NAME_LENGTH_LIMIT,
        `name of ${span.name.length}`,
      );
      assert.ok(
        longestString(span) <= limit,
        `${span.name.slice(0, 40)}: a ${longestString(span)}-character value`,
      );
    }
    // The bounded values are prefixes of what was sent.
    const llm = spans.find((s) => s.name === "llm_request")!;
    assert.equal(
      llm.attributes["gen_ai.request.model"],
      HUGE_MODEL.slice(0, limit),
    );
  } finally {
    await shutdownTracing();
    restore();
    // initTracer memoised this run's limit: files that run later in the
    // same process (bun test) must see their own environment's.
    refreshLimits();
    await rx.close();
  }
}

test("default limits: 4096 per attribute value, 256 per span name", async () => {
  await run(DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT, {});
});

test("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT overrides the default", async () => {
  await run(100, { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "100" });
});
