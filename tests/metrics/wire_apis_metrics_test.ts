// The GenAI histograms record the Responses, Messages and Gemini requests
// too: a traced router (traceHandler + tracedFetch) in front of the fake
// upstream of tests/support/wire_apis.ts, one streamed and one JSON call of
// each API; the points at the test's OTLP metrics receiver carry each API's
// operation, provider, models and tokens.
import { test } from "node:test";
import assert from "node:assert/strict";
import { flushMetrics, tracedFetch, traceHandler } from "../../mod.ts";
import { BUCKETS } from "../../src/metrics/instruments.ts";
import { withServer } from "../support/servers.ts";
import { assertHistogram, pointWith, withMetrics } from "../support/metrics.ts";
import {
  ANTHROPIC_MODEL,
  eventData,
  GEMINI_JSON,
  GEMINI_MODEL,
  geminiEvents,
  parseSse,
  wireUpstream,
} from "../support/wire_apis.ts";
import { MESSAGES_USAGE_FIELDS_BODY } from "../support/wire_fixtures.ts";

const DELAY_MS = 20;

interface Api {
  /** The path of a JSON call and of a streamed one. */
  paths: [string, string];
  operation: string;
  provider: string;
  requestModel: string;
  responseModel: string;
  /** Input and output tokens of the JSON answer, then of the stream. */
  tokens: [[number, number], [number, number]];
}

const APIS: Api[] = [
  {
    paths: ["/v1/responses", "/v1/responses"],
    operation: "chat",
    provider: "openai",
    requestModel: "gpt-4.1",
    responseModel: "gpt-4.1-2025-04-14",
    tokens: [[37, 11], [37, 11]],
  },
  {
    paths: ["/v1/messages", "/v1/messages"],
    operation: "chat",
    provider: "anthropic",
    requestModel: ANTHROPIC_MODEL,
    responseModel: ANTHROPIC_MODEL,
    tokens: [[406, 50], [135, 10]],
  },
  {
    paths: [
      `/v1beta/models/${GEMINI_MODEL}:generateContent`,
      `/v1beta/models/${GEMINI_MODEL}:streamGenerateContent?alt=sse`,
    ],
    operation: "generate_content",
    provider: "gcp.gemini",
    requestModel: GEMINI_MODEL,
    responseModel: GEMINI_MODEL,
    tokens: [[7, 157 + 41], [7, 153 + 45]],
  },
];

test("every GenAI histogram records Responses, Messages and Gemini requests", async () => {
  await withMetrics({}, {}, async (rx) => {
    const up = wireUpstream({ firstContentDelayMs: DELAY_MS });
    // The engine is traced too: its SERVER spans feed gen_ai.server.*; the
    // router forwards, so its own feed none (its view: the client metrics).
    await withServer(
      traceHandler(up.handler, {
        providerName: "engine",
      }),
      async (u) => {
        const router = traceHandler(async (req: Request) => {
          const url = new URL(req.url);
          return await tracedFetch(`${u.origin}${url.pathname}${url.search}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: await req.text(),
          }, { request: req });
        }, { providerName: "llmtrace-router" });
        await withServer(router, async (r) => {
          for (const api of APIS) {
            for (const [i, path] of api.paths.entries()) {
              const res = await fetch(`${r.origin}${path}`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({
                  model: api.requestModel,
                  stream: i === 1,
                  max_tokens: 100,
                }),
              });
              await res.arrayBuffer();
            }
          }
          await flushMetrics();
          await rx.waitFor((e) =>
            e.some((x) =>
              x.metrics.some((m) =>
                m.name === "gen_ai.client.operation.duration" &&
                m.points.reduce((n, p) => n + (p.count ?? 0), 0) === 6
              )
            )
          );
          for (const api of APIS) {
            const common = {
              "gen_ai.operation.name": api.operation,
              "gen_ai.request.model": api.requestModel,
              "gen_ai.response.model": api.responseModel,
              "server.address": "127.0.0.1",
            };
            const server = {
              ...common,
              "gen_ai.provider.name": "engine",
              "server.port": u.port,
            };
            const where = api.provider;
            const d = pointWith(
              rx.latest("gen_ai.server.request.duration"),
              server,
            );
            assert.equal(d.count, 2, where);
            const ttft = pointWith(
              rx.latest("gen_ai.server.time_to_first_token"),
              server,
            );
            assert.equal(ttft.count, 1, `${where}: the stream only`);
            assert.ok(ttft.min! >= (DELAY_MS * 0.9) / 1000, `${where} ttft`);
            assert.equal(
              pointWith(
                rx.latest("gen_ai.server.time_per_output_token"),
                server,
              )
                .count,
              1,
              where,
            );
            assert.ok(
              !rx.latest("gen_ai.server.request.duration")!.points.some((p) =>
                p.attributes["server.port"] === r.port
              ),
              `${where}: the router's SERVER span feeds no server metric`,
            );
            const client = {
              ...common,
              "gen_ai.provider.name": api.provider,
              "server.port": u.port,
            };
            assert.equal(
              pointWith(rx.latest("gen_ai.client.operation.duration"), client)
                .count,
              2,
              where,
            );
            assert.equal(
              pointWith(
                rx.latest("gen_ai.client.operation.time_to_first_chunk"),
                client,
              ).count,
              1,
              where,
            );
            const usage = rx.latest("gen_ai.client.token.usage");
            assertHistogram(
              pointWith(usage, { ...client, "gen_ai.token.type": "input" }),
              BUCKETS.tokens,
              api.tokens.map(([input]) => input),
            );
            assertHistogram(
              pointWith(usage, { ...client, "gen_ai.token.type": "output" }),
              BUCKETS.tokens,
              api.tokens.map(([, output]) => output),
            );
          }
        });
      },
    );
  });
});

test("latest conventions: cache writes and reasoning tokens feed their usage counters; streams feed time_per_output_chunk", async () => {
  // The Anthropic SDK's recording of a stream whose final usage carries cache
  // reads and writes and thinking tokens; Gemini's recorded answers.
  const final = eventData(
    parseSse(MESSAGES_USAGE_FIELDS_BODY).findLast(([e]) =>
      e === "message_delta"
    )!,
  ).usage as Record<string, number> & {
    output_tokens_details: { thinking_tokens: number };
  };
  const thoughts = (v: unknown) =>
    ((v as { usageMetadata?: { thoughtsTokenCount?: number } }).usageMetadata
      ?.thoughtsTokenCount) ?? 0;
  const streamed = geminiEvents().map(eventData).findLast((d) =>
    thoughts(d) > 0
  );
  await withMetrics(
    {
      OTEL_SEMCONV_STABILITY_OPT_IN: "gen_ai_latest_experimental",
    },
    {},
    async (rx) => {
      // Paced, so the chunks after the first arrive as reads of their own.
      const up = wireUpstream({ firstContentDelayMs: DELAY_MS, delayMs: 5 });
      const handler = (req: Request) =>
        new URL(req.url).pathname.endsWith("/messages")
          ? new Response(MESSAGES_USAGE_FIELDS_BODY, {
            headers: { "content-type": "text/event-stream" },
          })
          : up.handler(req);
      await withServer(handler, async (u) => {
        const calls: [string, string, boolean][] = [
          ["/v1/messages", ANTHROPIC_MODEL, true],
          [
            `/v1beta/models/${GEMINI_MODEL}:generateContent`,
            GEMINI_MODEL,
            false,
          ],
          [
            `/v1beta/models/${GEMINI_MODEL}:streamGenerateContent?alt=sse`,
            GEMINI_MODEL,
            true,
          ],
        ];
        for (const [path, model, stream] of calls) {
          const res = await tracedFetch(`${u.origin}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ model, max_tokens: 100, stream }),
          });
          await res.arrayBuffer();
        }
        await flushMetrics();
        const total = (name: string, provider: string) =>
          (rx.latest(name)?.points ?? []).filter((p) =>
            p.attributes["gen_ai.provider.name"] === provider
          ).reduce((n, p) => n + (p.value ?? 0), 0);
        const usage = "gen_ai.client.inference.usage.";
        // Messages: input includes the cache reads and writes, each apart too.
        assert.ok(final.cache_creation_input_tokens > 0, "the fixture writes");
        assert.equal(
          total(`${usage}input_tokens`, "anthropic"),
          final.input_tokens + final.cache_creation_input_tokens +
            final.cache_read_input_tokens,
        );
        assert.equal(
          total(`${usage}cache_write.input_tokens`, "anthropic"),
          final.cache_creation_input_tokens,
        );
        assert.equal(
          total(`${usage}reasoning.output_tokens`, "anthropic"),
          final.output_tokens_details.thinking_tokens,
        );
        // Gemini: thoughts are reasoning output (included in the output).
        assert.ok(thoughts(GEMINI_JSON) > 0 && streamed !== undefined);
        assert.equal(
          total(`${usage}reasoning.output_tokens`, "gcp.gemini"),
          thoughts(GEMINI_JSON) + thoughts(streamed),
        );
        assert.equal(
          total(`${usage}cache_write.input_tokens`, "gcp.gemini"),
          0,
        );
        const tpoc = rx.latest("gen_ai.client.inference.time_per_output_chunk");
        assert.deepEqual(
          tpoc?.points.map((p) => p.attributes["gen_ai.provider.name"]).sort(),
          ["gcp.gemini"],
          // The recorded Messages body comes in one read: no chunk after
          // the first, no gap.
          "the paced stream only",
        );
      });
    },
  );
});
