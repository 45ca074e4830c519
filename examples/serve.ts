/**
 * Starts a fetch handler on a loopback port under Deno (`Deno.serve`), Bun
 * (`Bun.serve`) or Node (`node:http`), and stops it: the one place the
 * examples touch a runtime's server API.
 *
 * @module
 */

/** A running server. */
export interface RunningServer {
  /** The port it listens on. */
  port: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Stops it and closes open connections. */
  close(): Promise<void>;
}

/**
 * Serves `handler` on 127.0.0.1.
 *
 * @param handler The fetch handler.
 * @param port The port; 0 picks a free one.
 * @returns The running server.
 */
export function serve(
  handler: (req: Request, ...rest: never[]) => Response | Promise<Response>,
  port = 0,
): Promise<RunningServer> {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  const h = handler as (req: Request, ...rest: unknown[]) => Promise<Response>;
  if (g.Deno?.serve) {
    const s = g.Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, h);
    const p: number = s.addr.port;
    return Promise.resolve({
      port: p,
      url: `http://127.0.0.1:${p}`,
      close: async () => {
        await s.shutdown();
      },
    });
  }
  if (g.Bun?.serve) {
    const s = g.Bun.serve({ hostname: "127.0.0.1", port, fetch: h });
    const p: number = s.port;
    return Promise.resolve({
      port: p,
      url: `http://127.0.0.1:${p}`,
      close: async () => {
        await s.stop(true);
      },
    });
  }
  return Promise.reject(
    new Error("examples/serve.ts: run this under Deno or Bun"),
  );
}

/**
 * A loopback port with nothing listening (for a failing upstream).
 *
 * @returns The port.
 */
export async function deadPort(): Promise<number> {
  const s = await serve(() => new Response(""));
  await s.close();
  return s.port;
}
