/**
 * An edge LLM router: receives OpenAI chat completions (and Responses,
 * Anthropic Messages and Gemini calls), picks the upstreams for the model,
 * forwards the request (falling back to the next upstream on a connection
 * error or a 5xx) and streams the answer back. `traceHandler` gives the SERVER span, `tracedFetch` one CLIENT
 * span per upstream attempt, with time to first token measured at the router.
 *
 * Run it: `UPSTREAM=http://127.0.0.1:8001 deno run -A examples/router.ts` or
 * the same with `bun examples/router.ts` (PORT, default 8000).
 *
 * @module
 */
import { tracedFetch, traceHandler } from "../mod.ts";

/** Where the router sends each model. */
export interface RouterOptions {
  /** Upstream base URLs (e.g. `http://127.0.0.1:8001`) per model, tried in order. */
  routes: Record<string, string[]>;
  /** Upstreams for models without a route. */
  fallback: string[];
  /**
   * `gen_ai.provider.name` of an upstream; `undefined` lets llmtrace tell it
   * from the host and the wire API. @default "vllm" for every upstream
   */
  providerName?: (upstream: string) => string | undefined;
}

/** Gemini names the model in the path: its route template, with `{model}`. */
function routeOf(req: Request): string | undefined {
  const m = /^\/(v1\w*)\/models\/[^/:]+:(\w+)$/.exec(new URL(req.url).pathname);
  return m ? `/${m[1]}/models/{model}:${m[2]}` : undefined;
}

/**
 * Builds the router's fetch handler (already wrapped by `traceHandler`).
 *
 * @param opts The routing table.
 * @returns A fetch-style handler for `Deno.serve` / `Bun.serve`.
 */
export function createRouter(
  opts: RouterOptions,
): (req: Request) => Response | Promise<Response> {
  return traceHandler(async (req: Request): Promise<Response> => {
    if (req.method !== "POST") {
      return Response.json({ error: { message: "use POST" } }, { status: 405 });
    }
    const body = await req.text();
    const path = new URL(req.url).pathname;
    let model = "";
    try {
      model = String(
        JSON.parse(body).model ?? /\/models\/([^/:]+):/.exec(path)?.[1] ?? "",
      );
    } catch {
      return Response.json({ error: { message: "invalid JSON" } }, {
        status: 400,
      });
    }
    const upstreams = opts.routes[model] ?? opts.fallback;
    const search = new URL(req.url).search;
    let lastError: unknown;
    for (let attempt = 0; attempt < upstreams.length; attempt++) {
      try {
        const upstream = upstreams[attempt];
        const res = await tracedFetch(`${upstream}${path}${search}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        }, {
          request: req,
          attempt,
          providerName: opts.providerName
            ? opts.providerName(upstream)
            : "vllm",
        });
        if (res.status >= 500 && attempt < upstreams.length - 1) {
          await res.body?.cancel();
          continue; // try the next upstream
        }
        return res; // streamed back as it arrives
      } catch (e) {
        lastError = e; // connection refused, timeout: fall back
      }
    }
    return Response.json({
      error: { message: `no upstream answered: ${String(lastError)}` },
    }, { status: 502 });
  }, { route: routeOf, providerName: "llmtrace-router" });
}

if (import.meta.main) {
  const { initTracer } = await import("../mod.ts");
  await initTracer("llmtrace.router");
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  const env = g.process?.env ?? {};
  const port = Number(env.PORT ?? 8000);
  const handler = createRouter({
    routes: {},
    fallback: (env.UPSTREAM ?? "http://127.0.0.1:8001").split(","),
  });
  if (g.Deno) g.Deno.serve({ hostname: "127.0.0.1", port }, handler);
  else g.Bun.serve({ hostname: "127.0.0.1", port, fetch: handler });
}
