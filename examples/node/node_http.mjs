// A node:http adapter for fetch-style handlers (Node 20+, and Bun's
// node:http): the IncomingMessage becomes a web `Request` (body streamed,
// `signal` aborted when the client goes away), the handler's `Response` is
// written back chunk by chunk with backpressure, and a client that
// disconnects mid-body cancels the response stream, so a traced SSE answer
// ends its span as cancelled and the upstream stops generating.
//
//   import { createServer } from "node:http";
//   import { toNodeListener } from "./node_http.mjs";
//   createServer(toNodeListener(traceHandler(handler))).listen(8000);
//
// The handler gets `(request, { remoteAddr: { hostname } })`, the shape
// llmtrace reads `client.address` from.

/**
 * @param {(req: Request, info: { remoteAddr: { hostname: string | undefined } }) => Response | Promise<Response>} handler
 * @returns {(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void}
 */
export function toNodeListener(handler) {
  return (req, res) => {
    void serveOne(handler, req, res).catch((err) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("internal error");
      } else res.destroy(err);
    });
  };
}

/** The request as a web `Request`. */
function toRequest(req, res) {
  const host = req.headers.host ?? "127.0.0.1";
  const url = new URL(req.url ?? "/", `http://${host}`);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.startsWith(":")) continue; // HTTP/2 pseudo-headers
    if (Array.isArray(v)) { for (const x of v) headers.append(k, x); }
    else if (v !== undefined) headers.set(k, v);
  }
  const controller = new AbortController();
  // The client went away before the response was complete.
  res.on("close", () => {
    if (!res.writableFinished) {
      controller.abort(new Error("client disconnected"));
    }
  });
  const method = req.method ?? "GET";
  const init = { method, headers, signal: controller.signal };
  if (method !== "GET" && method !== "HEAD") {
    init.body = new ReadableStream({
      start(c) {
        req.on("data", (chunk) => {
          c.enqueue(
            new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
          );
          if ((c.desiredSize ?? 1) <= 0) req.pause();
        });
        req.on("end", () => c.close());
        req.on("error", (e) => c.error(e));
      },
      pull() {
        req.resume();
      },
      cancel() {
        req.destroy();
      },
    }, { highWaterMark: 65536, size: (chunk) => chunk.byteLength });
    init.duplex = "half";
  }
  return new Request(url, init);
}

async function serveOne(handler, req, res) {
  const request = toRequest(req, res);
  const response = await handler(request, {
    remoteAddr: { hostname: req.socket.remoteAddress },
  });
  const headers = {};
  response.headers.forEach((v, k) => {
    if (k !== "set-cookie") headers[k] = v;
  });
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length) headers["set-cookie"] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (!response.body || req.method === "HEAD") {
    await response.body?.cancel();
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  let gone = false;
  const onClose = () => {
    if (res.writableFinished) return;
    gone = true;
    reader.cancel(new Error("client disconnected")).catch(() => {});
  };
  res.on("close", onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || gone) break;
      if (!res.write(value)) {
        await new Promise((resolve) => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
      }
    }
  } catch (err) {
    if (!gone) res.destroy(err);
    return;
  }
  if (!gone) res.end();
}
