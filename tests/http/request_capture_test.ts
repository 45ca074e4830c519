// traceHandler reads the request's GenAI attributes from the body as the
// handler reads it (no clone): through text(), json(), arrayBuffer(),
// bytes(), blob(), a direct read of req.body, or no read at all; the
// handler gets its body whole, and the request stays the runtime's own
// object (Bun's server.requestIP, Deno.upgradeWebSocket keep working).
import { test } from "node:test";
import assert from "node:assert/strict";
import { forceFlush, traceHandler } from "../../mod.ts";
import { currentRuntime, withServer } from "../support/servers.ts";
import { type Tracing, useTracing } from "../support/tracing.ts";

let t: Tracing;
useTracing("request-capture-test", (ready) => (t = ready), {
  OTEL_METRICS_EXPORTER: "none",
});

const BODY = JSON.stringify({
  model: "capture-model",
  temperature: 0.5,
  messages: [{ role: "user", content: "hi" }],
});

type Reader = (req: Request) => Promise<number>;
const READERS: Record<string, Reader> = {
  text: async (req) => (await req.text()).length,
  json: async (req) => JSON.stringify(await req.json()).length,
  arrayBuffer: async (req) => (await req.arrayBuffer()).byteLength,
  blob: async (req) => (await req.blob()).size,
  body: async (req) => {
    let n = 0;
    for await (const c of req.body!) n += c.byteLength;
    return n;
  },
  none: () => Promise.resolve(BODY.length),
};
if ("bytes" in Request.prototype) {
  READERS.bytes = async (req) =>
    (await (req as unknown as { bytes(): Promise<Uint8Array> }).bytes())
      .byteLength;
}

for (const [how, read] of Object.entries(READERS)) {
  test(`the request's model and temperature, read through ${how}`, async () => {
    let got = -1;
    const h = traceHandler(async (req: Request) => {
      got = await read(req);
      return Response.json({ ok: true });
    }, { attributes: { "test.case": `capture ${how}` } });
    await withServer(h, async (s) => {
      const res = await fetch(`${s.origin}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: BODY,
      });
      await res.text();
    });
    assert.equal(got, BODY.length, "the handler got its whole body");
    await forceFlush();
    const [span] = (await t.receiver.waitForSpans((all) =>
      all.some((x) =>
        x.attributes["test.case"] === `capture ${how}`
      )
    )).filter((x) => x.attributes["test.case"] === `capture ${how}`);
    // Bun drops a body nobody read once the response is sent.
    if (how === "none" && currentRuntime() === "bun") return;
    assert.equal(span.attributes["gen_ai.request.model"], "capture-model", how);
    assert.equal(span.attributes["gen_ai.request.temperature"], 0.5, how);
  });
}

test("the request stays the runtime's own object: server.requestIP (Bun), Deno.upgradeWebSocket", async () => {
  const g = globalThis as unknown as {
    Deno?: {
      upgradeWebSocket(r: Request): { socket: WebSocket; response: Response };
    };
  };
  if (currentRuntime() === "bun") {
    let ip: unknown;
    const h = traceHandler(async (req: Request, server: unknown) => {
      await req.json();
      ip = (server as { requestIP(r: Request): { address: string } | null })
        .requestIP(req)?.address;
      return new Response("ok");
    });
    await withServer(h, async (s) => {
      await (await fetch(`${s.origin}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: BODY,
      })).text();
    });
    assert.match(String(ip), /127\.0\.0\.1/);
    return;
  }
  const h = traceHandler((req: Request) => {
    const { socket, response } = g.Deno!.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(`echo ${e.data}`);
    return response;
  });
  await withServer(h, async (s) => {
    const ws = new WebSocket(`${s.origin.replace("http", "ws")}/ws`);
    const answer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no answer")), 5000);
      ws.onopen = () => ws.send("hi");
      ws.onmessage = (e) => {
        clearTimeout(timer);
        resolve(String(e.data));
      };
      ws.onerror = () => reject(new Error("websocket error"));
    });
    assert.equal(answer, "echo hi");
    ws.close();
    await new Promise((r) => setTimeout(r, 50));
  });
});
