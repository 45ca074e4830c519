/**
 * Puts a fetch handler on a TCP port under Deno (`Deno.serve`), Bun
 * (`Bun.serve`) or Node (`node:http`): the viewer's one runtime-specific file,
 * on the pattern of src/runtime/ (detect once, same surface everywhere).
 *
 * @module
 */

/** A running server. */
export interface Served {
  /** The runtime serving. */
  runtime: "deno" | "bun" | "node";
  /** The bound host and port. */
  hostname: string;
  port: number;
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
}

type Handler = (req: Request) => Promise<Response>;

interface DenoLike {
  serve(
    options: {
      hostname: string;
      port: number;
      onListen?: (addr: { port: number }) => void;
      onError?: (e: unknown) => Response;
    },
    handler: Handler,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}
interface BunLike {
  serve(options: {
    hostname: string;
    port: number;
    fetch: Handler;
    error?: (e: unknown) => Response;
  }): { port: number; stop(closeActive?: boolean): Promise<void> | void };
}

// Structural types of the node:http pieces used (no @types/node needed).
interface NodeReq extends AsyncIterable<Uint8Array> {
  method?: string;
  url?: string;
  rawHeaders: string[];
}
interface NodeRes {
  writeHead(status: number, headers: Record<string, string>): void;
  write(chunk: Uint8Array): boolean;
  end(): void;
  destroy(): void;
  headersSent: boolean;
}
interface NodeServer {
  listen(port: number, host: string, cb: () => void): void;
  once(event: "error", cb: (e: unknown) => void): void;
  address(): { port: number } | string | null;
  close(cb: () => void): void;
  closeAllConnections?(): void;
}

const internalError = (e: unknown) =>
  new Response(`internal error: ${e instanceof Error ? e.message : e}`, {
    status: 500,
  });

/** Serves `handler` on `hostname:port` (0 picks a free port). */
export async function serve(
  handler: Handler,
  hostname: string,
  port: number,
): Promise<Served> {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (g.Deno?.serve) {
    const deno = g.Deno as DenoLike;
    const server = deno.serve(
      { hostname, port, onListen() {}, onError: internalError },
      handler,
    );
    let closing: Promise<void> | undefined;
    return {
      runtime: "deno",
      hostname,
      port: server.addr.port,
      close: () => closing ??= server.shutdown(),
    };
  }
  if (g.Bun?.serve) {
    const bun = g.Bun as BunLike;
    const server = bun.serve({
      hostname,
      port,
      fetch: handler,
      error: internalError,
    });
    let closing: Promise<void> | undefined;
    return {
      runtime: "bun",
      hostname,
      port: server.port,
      close: () =>
        closing ??= Promise.resolve(server.stop(true)).then(() => {}),
    };
  }
  return await serveNode(handler, hostname, port);
}

async function serveNode(
  handler: Handler,
  hostname: string,
  port: number,
): Promise<Served> {
  // A variable specifier: bundlers and Deno leave node:http unresolved
  // unless this branch runs.
  const name = "node:http";
  const http = (await import(name)) as {
    createServer(cb: (req: NodeReq, res: NodeRes) => void): NodeServer;
  };
  const origin = `http://${
    hostname.includes(":") ? `[${hostname}]` : hostname
  }`;
  const server = http.createServer(async (req, res) => {
    try {
      // rawHeaders: the pairs as sent, repeated names kept.
      const headers = new Headers();
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
      }
      const method = req.method ?? "GET";
      const bodyless = method === "GET" || method === "HEAD";
      const response = await handler(
        new Request(new URL(req.url ?? "/", origin), {
          method,
          headers,
          body: bodyless ? undefined : pulled(req[Symbol.asyncIterator]()),
          duplex: "half",
        } as RequestInit),
      );
      const out: Record<string, string> = {};
      response.headers.forEach((v, k) => (out[k] = v));
      res.writeHead(response.status, out);
      if (response.body) {
        for await (const chunk of response.body) res.write(chunk);
      }
      res.end();
    } catch {
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(400, { "content-type": "text/plain" });
        res.end();
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => resolve());
  });
  const addr = server.address();
  let closing: Promise<void> | undefined;
  return {
    runtime: "node",
    hostname,
    port: typeof addr === "object" && addr ? addr.port : port,
    close: () =>
      closing ??= new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

// Pulled, not pushed: a body larger than the handler reads is never buffered,
// and cancelling (413) ends the upload.
function pulled(it: AsyncIterator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const r = await it.next();
      if (r.done) c.close();
      else c.enqueue(r.value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}
