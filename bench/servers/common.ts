// Runtime glue for the bench servers: env, listen on 127.0.0.1:0, print the
// port as "LISTEN <port>" on stdout.
// deno-lint-ignore-file no-explicit-any
const g = globalThis as any;

export function env(name: string): string | undefined {
  return g.Deno ? g.Deno.env.get(name) : g.process?.env?.[name];
}

export type Handler = (
  req: Request,
  ...rest: any[]
) => Response | Promise<Response>;

export function listen(
  handler: Handler,
  port = Number(env("PORT") ?? 0),
): number {
  let p: number;
  if (g.Deno) {
    const s = g.Deno.serve(
      { hostname: "127.0.0.1", port, onListen() {} },
      handler,
    );
    p = s.addr.port;
  } else if (g.Bun) {
    const s = g.Bun.serve({
      hostname: "127.0.0.1",
      port,
      fetch: handler,
      idleTimeout: 60,
    });
    p = s.port;
  } else throw new Error("run under Deno or Bun");
  console.log(`LISTEN ${p}`);
  return p;
}
