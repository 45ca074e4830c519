/**
 * The one loopback server helper of the repository (tests, the OTLP receiver,
 * the demo, the bench servers): a real HTTP server on 127.0.0.1, on a random port unless one is
 * given, under Deno (`Deno.serve`), Bun (`Bun.serve`), or, through
 * {@link serveLoopback}, Node (`node:http`). Always `stop()` it.
 *
 * @module
 */
import { concatBytes } from "./bytes.ts";

/** A fetch-style handler with whatever the runtime passes after the request. */
export type ServeHandler = (
  req: Request,
  ...rest: unknown[]
) => Response | Promise<Response>;

/** A running test server. */
export interface TestServer {
  /** The runtime serving it. */
  runtime: "deno" | "bun" | "node";
  /** The listening port. */
  port: number;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** The runtime's own server object (`Deno.HttpServer` or Bun's `Server`). */
  raw: unknown;
  /** Stops the server, closing active connections. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startServer}. */
export interface ServerOptions {
  /**
   * The runtime's error hook (Deno's `onError`, Bun's `error`) for errors the
   * handler throws. Under `bun test` an error that reaches Bun's default hook
   * fails the running test, so tests of throwing handlers pass one.
   */
  onError?: (error: unknown) => Response | Promise<Response>;
  /** The port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /**
   * Bun's `idleTimeout` in seconds (Bun closes a connection idle for 10 s by
   * default; Deno keeps it).
   */
  idleTimeout?: number;
}

interface DenoServe {
  serve(
    options: {
      hostname: string;
      port: number;
      onListen?: () => void;
      onError?: (error: unknown) => Response | Promise<Response>;
    },
    handler: ServeHandler,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}
interface BunServe {
  serve(options: {
    hostname: string;
    port: number;
    fetch: ServeHandler;
    error?: (error: unknown) => Response | Promise<Response>;
    idleTimeout?: number;
  }): { port: number; stop(closeActive?: boolean): Promise<void> | void };
}

/** The runtime the tests run in. */
export function currentRuntime(): "deno" | "bun" {
  const g = globalThis as unknown as { Deno?: unknown; Bun?: unknown };
  if (g.Bun) return "bun";
  if (g.Deno) return "deno";
  throw new Error("these tests need Deno or Bun");
}

/** Starts `handler` on 127.0.0.1 (Deno or Bun), on a free port unless `options.port`. */
export function startServer(
  handler: ServeHandler,
  options: ServerOptions = {},
): TestServer {
  const g = globalThis as unknown as { Deno?: DenoServe; Bun?: BunServe };
  let stopping: Promise<void> | undefined;
  if (g.Bun) {
    const server = g.Bun.serve({
      hostname: "127.0.0.1",
      port: options.port ?? 0,
      fetch: handler,
      ...(options.onError ? { error: options.onError } : {}),
      ...(options.idleTimeout ? { idleTimeout: options.idleTimeout } : {}),
    });
    return {
      runtime: "bun",
      port: server.port,
      origin: `http://127.0.0.1:${server.port}`,
      raw: server,
      stop: () =>
        stopping ??= Promise.resolve(server.stop(true)).then(() => {}),
    };
  }
  if (g.Deno) {
    const server = g.Deno.serve(
      {
        hostname: "127.0.0.1",
        port: options.port ?? 0,
        onListen() {},
        ...(options.onError ? { onError: options.onError } : {}),
      },
      handler,
    );
    const port = server.addr.port;
    return {
      runtime: "deno",
      port,
      origin: `http://127.0.0.1:${port}`,
      raw: server,
      stop: () => stopping ??= server.shutdown(),
    };
  }
  throw new Error("startServer needs Deno or Bun");
}

/** Runs `fn` with a server for `handler`, and always stops the server. */
export async function withServer<T>(
  handler: ServeHandler,
  fn: (server: TestServer) => Promise<T>,
  options: ServerOptions = {},
): Promise<T> {
  const server = startServer(handler, options);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

/** A loopback port with nothing listening (an upstream or collector that is down). */
export async function deadPort(): Promise<number> {
  const s = startServer(() => new Response(""));
  await s.stop();
  return s.port;
}

/**
 * {@link startServer} under Deno and Bun; under Node, the same on
 * `node:http` (each request's body read whole, the response sent whole:
 * enough for the OTLP receiver and the demo's servers under `node --test`).
 */
export function serveLoopback(
  handler: ServeHandler,
  options: ServerOptions = {},
): Promise<TestServer> {
  const g = globalThis as unknown as { Deno?: unknown; Bun?: unknown };
  if (g.Deno || g.Bun) return Promise.resolve(startServer(handler, options));
  return serveNode(handler, options.port ?? 0);
}

// Minimal structural typing of the node:http pieces used (keeps `deno check`
// independent of @types/node).
interface NodeReq {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  on(event: "data", cb: (chunk: Uint8Array) => void): void;
  on(event: "end" | "error", cb: (err?: unknown) => void): void;
}
interface NodeRes {
  writeHead(status: number, headers: Record<string, string>): void;
  end(body?: Uint8Array): void;
}
interface NodeServer {
  listen(port: number, host: string, cb: () => void): void;
  once(event: "error", cb: (err: unknown) => void): void;
  address(): { port: number } | string | null;
  close(cb: () => void): void;
  closeAllConnections?(): void;
}
interface NodeHttp {
  createServer(cb: (req: NodeReq, res: NodeRes) => void): NodeServer;
}

async function serveNode(
  handler: ServeHandler,
  port: number,
): Promise<TestServer> {
  // Non-literal specifier: only loaded when neither Deno nor Bun is present.
  const specifier = "node:http";
  const http = (await import(specifier)) as NodeHttp;
  const server = http.createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("error", () => {
      res.writeHead(400, {});
      res.end();
    });
    req.on("end", async () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (Array.isArray(v)) { for (const x of v) headers.append(k, x); }
        else if (v !== undefined) headers.set(k, v);
      }
      const method = req.method ?? "GET";
      const body = method === "GET" || method === "HEAD"
        ? undefined
        : concatBytes(chunks);
      const response = await handler(
        new Request(`http://127.0.0.1${req.url ?? "/"}`, {
          method,
          headers,
          body: body as BodyInit | undefined,
        }),
      );
      const out = new Uint8Array(await response.arrayBuffer());
      const outHeaders: Record<string, string> = {};
      response.headers.forEach((v, k) => (outHeaders[k] = v));
      res.writeHead(response.status, outHeaders);
      res.end(out);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  const bound = typeof addr === "object" && addr ? addr.port : 0;
  let stopping: Promise<void> | undefined;
  return {
    runtime: "node",
    port: bound,
    origin: `http://127.0.0.1:${bound}`,
    raw: server,
    stop: () =>
      stopping ??= new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
