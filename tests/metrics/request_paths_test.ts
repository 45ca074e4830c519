// Metrics from real requests, not from the sink: a traced router
// (traceHandler + tracedFetch) in front of a traced fake LLM, and an engine
// that records vLLM's llm_request (recordRequestSpan) under traceHandler.
// What the request paths measured arrives at the test's own OTLP metrics
// receiver: counts, sums and attributes that match the requests sent.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  flushMetrics,
  recordRequestSpan,
  tracedFetch,
  traceHandler,
} from "../../mod.ts";
import { BUCKETS } from "../../src/metrics/instruments.ts";
import { createFakeLlm } from "../support/fake_llm.ts";
import { withServer } from "../support/servers.ts";
import { assertHistogram, pointWith, withMetrics } from "../support/metrics.ts";

const PIECES = ["a", "b", "c", "d"];
const DELAY_MS = 15;

async function chat(url: string, stream: boolean): Promise<string> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "acme/m",
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  return await res.text();
}

test("router + engine: server, client and token metrics match the requests sent", async () => {
  await withMetrics({}, {}, async (rx) => {
    const llm = createFakeLlm({ pieces: PIECES, delayMs: DELAY_MS });
    await withServer(
      traceHandler(llm.handler, { providerName: "vllm" }),
      async (engine) => {
        const router = traceHandler(
          async (req: Request) =>
            await tracedFetch(`${engine.origin}/v1/chat/completions`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: await req.text(),
            }, { request: req, providerName: "vllm" }),
          {
            providerName: "llmtrace-router",
          },
        );
        await withServer(router, async (r) => {
          const url = `${r.origin}/v1/chat/completions`;
          for (let i = 0; i < 3; i++) {
            assert.match(await chat(url, true), /DONE/);
          }
          for (let i = 0; i < 2; i++) {
            assert.match(await chat(url, false), /"a/);
          }
          await flushMetrics();
          await rx.waitFor((e) =>
            e.some((x) =>
              x.metrics.some((m) =>
                m.name === "gen_ai.client.operation.duration" &&
                m.points.some((p) => p.count === 5)
              )
            )
          );
          const common = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "acme/m",
            "gen_ai.response.model": llm.responseModel("acme/m"),
            "server.address": "127.0.0.1",
          };
          const engineAttrs = {
            ...common,
            "gen_ai.provider.name": "vllm",
            "server.port": engine.port,
          };
          const routerAttrs = {
            ...common,
            "gen_ai.provider.name": "llmtrace-router",
            "server.port": r.port,
          };
          // The engine counts its five requests once; the router forwarded
          // them with tracedFetch({ request }), so its SERVER span feeds no
          // gen_ai.server.* instrument (its view is the client metrics).
          for (
            const name of [
              "gen_ai.server.request.duration",
              "gen_ai.server.time_to_first_token",
              "gen_ai.server.time_per_output_token",
            ]
          ) {
            assert.ok(
              !rx.latest(name)!.points.some((p) =>
                p.attributes["gen_ai.provider.name"] === routerAttrs[
                  "gen_ai.provider.name"
                ]
              ),
              `${name}: no router point`,
            );
          }
          for (const attrs of [engineAttrs]) {
            const d = pointWith(
              rx.latest("gen_ai.server.request.duration"),
              attrs,
            );
            assert.equal(d.count, 5);
            assert.deepEqual(d.explicitBounds, [...BUCKETS.duration]);
            // A stream lasts at least its 7 paced events.
            assert.ok(d.max! >= (7 * DELAY_MS) / 1000, `max ${d.max}`);
            const ttft = pointWith(
              rx.latest("gen_ai.server.time_to_first_token"),
              attrs,
            );
            assert.equal(ttft.count, 3, "streams only");
            assert.ok(ttft.min! >= DELAY_MS / 1000 * 0.9, `ttft ${ttft.min}`);
            assert.ok(ttft.max! < d.max!);
            const tpot = pointWith(
              rx.latest("gen_ai.server.time_per_output_token"),
              attrs,
            );
            assert.equal(tpot.count, 3);
          }
          // The router's upstream calls: one CLIENT measurement each.
          const clientAttrs = {
            ...common,
            "gen_ai.provider.name": "vllm",
            "server.port": engine.port,
          };
          const op = pointWith(
            rx.latest("gen_ai.client.operation.duration"),
            clientAttrs,
          );
          assert.equal(op.count, 5);
          const usage = rx.latest("gen_ai.client.token.usage");
          assertHistogram(
            pointWith(usage, { ...clientAttrs, "gen_ai.token.type": "input" }),
            BUCKETS.tokens,
            Array(5).fill(llm.promptTokens),
          );
          assertHistogram(
            pointWith(usage, { ...clientAttrs, "gen_ai.token.type": "output" }),
            BUCKETS.tokens,
            Array(5).fill(PIECES.length),
          );
        });
      },
    );
  });
});

test("an engine recording llm_request under traceHandler: one server data point per request, vLLM's breakdown exact", async () => {
  await withMetrics({}, {}, async (rx) => {
    const handler = traceHandler(async (req: Request) => {
      const body = await req.json();
      const t0 = Date.now() - 100;
      recordRequestSpan({
        requestId: "cmpl-1",
        request: req,
        model: body.model,
        responseModel: "acme/m-v2",
        providerName: "vllm",
        promptTokens: 7,
        completionTokens: 5,
        timings: {
          arrival: t0,
          queued: t0 + 2,
          scheduled: t0 + 10,
          firstToken: t0 + 30,
          lastToken: t0 + 90,
          finished: t0 + 100,
        },
      });
      return Response.json({ model: "acme/m-v2", choices: [] });
    }, { providerName: "vllm" });
    await withServer(handler, async (s) => {
      for (let i = 0; i < 4; i++) {
        await chat(`${s.origin}/v1/chat/completions`, false);
      }
      await flushMetrics();
      await rx.waitFor((e) =>
        e.some((x) =>
          x.metrics.some((m) => m.name === "vllm.request.queue_time")
        )
      );
      const engine = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "vllm",
        "gen_ai.request.model": "acme/m",
        "gen_ai.response.model": "acme/m-v2",
      };
      // recordRequestSpan reported first; traceHandler's report of the same
      // request is not counted again.
      const all = rx.latest("gen_ai.server.request.duration")!;
      assert.equal(
        all.points.reduce((n, p) => n + (p.count ?? 0), 0),
        4,
        JSON.stringify(all.points.map((p) => p.attributes)),
      );
      const close = (name: string, want: number) => {
        const p = pointWith(rx.latest(name), engine);
        assert.equal(p.count, 4, name);
        assert.ok(Math.abs(p.sum! - 4 * want) < 1e-6, `${name} sum ${p.sum}`);
      };
      // (epoch milliseconds become whole microseconds: sums to 1e-6)
      close("gen_ai.server.request.duration", 0.1);
      assert.deepEqual(
        pointWith(all, engine).explicitBounds,
        [...BUCKETS.duration],
      );
      close("vllm.request.queue_time", 0.008);
      close("vllm.request.prefill_time", 0.02);
      close("vllm.request.decode_time", 0.06);
      close("vllm.request.inference_time", 0.08);
      close("vllm.e2e_request_latency", 0.1);
      close("gen_ai.server.time_to_first_token", 0.03);
      close("gen_ai.server.time_per_output_token", 0.015);
    });
  });
});

test("three streams through a router to a traced engine add 3 (not 6) to each gen_ai.server.* instrument; the router's client metrics get 3", async () => {
  await withMetrics({}, {}, async (rx) => {
    const llm = createFakeLlm({ pieces: PIECES, delayMs: 5 });
    await withServer(traceHandler(llm.handler), async (engine) => {
      const router = traceHandler(async (req: Request) =>
        await tracedFetch(
          `${engine.origin}/v1/chat/completions`,
          {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: await req.text(),
          },
          { request: req },
        )
      );
      await withServer(router, async (r) => {
        for (let i = 0; i < 3; i++) {
          assert.match(
            await chat(`${r.origin}/v1/chat/completions`, true),
            /DONE/,
          );
        }
        const total = (name: string) =>
          (rx.latest(name)?.points ?? []).reduce(
            (n, p) => n + (p.count ?? 0),
            0,
          );
        for (
          let i = 0;
          i < 100 && total("gen_ai.client.operation.duration") < 3;
          i++
        ) {
          await flushMetrics();
          await new Promise((res) => setTimeout(res, 20));
        }
        assert.equal(total("gen_ai.server.request.duration"), 3);
        assert.equal(total("gen_ai.server.time_to_first_token"), 3);
        assert.equal(total("gen_ai.server.time_per_output_token"), 3);
        const client = rx.latest("gen_ai.client.operation.duration")!;
        assert.equal(total("gen_ai.client.operation.duration"), 3);
        assert.equal(total("gen_ai.client.operation.time_to_first_chunk"), 3);
        assert.deepEqual(
          client.points.map((p) => p.attributes["server.port"]),
          [engine.port],
          "the router's calls to the engine",
        );
        // The server points are the engine's own port, not the router's.
        assert.deepEqual(
          rx.latest("gen_ai.server.request.duration")!.points.map((p) =>
            p.attributes["server.port"]
          ),
          [engine.port],
        );
      });
    });
  });
});

test("a client that cancels mid-stream: the server's data point has no error.type", async () => {
  await withMetrics({}, {}, async (rx) => {
    const llm = createFakeLlm({
      pieces: Array.from({ length: 40 }, (_, i) => `w${i} `),
      delayMs: DELAY_MS,
    });
    await withServer(
      traceHandler(llm.handler, { providerName: "vllm" }),
      async (s) => {
        const res = await fetch(`${s.origin}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "acme/m",
            stream: true,
            messages: [{ role: "user", content: "hi" }],
          }),
        });
        const reader = res.body!.getReader();
        for (let i = 0; i < 3; i++) await reader.read();
        await reader.cancel();
        assert.equal(await llm.waitForCancel(0, 8000), true);
        for (let i = 0; i < 100; i++) {
          await flushMetrics();
          if (rx.latest("gen_ai.server.request.duration")) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        const d = rx.latest("gen_ai.server.request.duration")!;
        assert.deepEqual(
          d.points.map((p) => [p.count, p.attributes["error.type"]]),
          [[1, undefined]],
        );
      },
    );
  });
});
