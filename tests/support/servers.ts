/**
 * Starts a real HTTP server on 127.0.0.1 with a random port, under Deno
 * (`Deno.serve`) or Bun (`Bun.serve`), for tests. Always `stop()` it.
 *
 * @module
 */

/** A fetch-style handler with whatever the runtime passes after the request. */
export type ServeHandler = (
  req: Request,
  ...rest: unknown[]
) => Response | Promise<Response>;

/** A running test server. */
export interface TestServer {
  /** `"deno"` or `"bun"`. */
  runtime: "deno" | "bun";
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
  }): { port: number; stop(closeActive?: boolean): Promise<void> | void };
}

/** The runtime the tests run in. */
export function currentRuntime(): "deno" | "bun" {
  const g = globalThis as unknown as { Deno?: unknown; Bun?: unknown };
  if (g.Bun) return "bun";
  if (g.Deno) return "deno";
  throw new Error("these tests need Deno or Bun");
}

/** Starts `handler` on 127.0.0.1, port 0 (a free port). */
export function startServer(
  handler: ServeHandler,
  options: ServerOptions = {},
): TestServer {
  const g = globalThis as unknown as { Deno?: DenoServe; Bun?: BunServe };
  let stopping: Promise<void> | undefined;
  if (g.Bun) {
    const server = g.Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: handler,
      ...(options.onError ? { error: options.onError } : {}),
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
        port: 0,
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
