/**
 * `llmtrace view`: a local LLM trace viewer. One process, one port (4318,
 * OTLP/HTTP's default, so an exporter left at its defaults sends here): it
 * receives OTLP/HTTP traces (protobuf or JSON) at `/v1/traces`, accepts
 * `/v1/metrics` and `/v1/logs`, and serves a live page at `/` with the
 * traces, their waterfalls with the GenAI timings (TTFT, queue, prefill,
 * decode) and a per-model summary. It keeps the last traces in memory only.
 *
 * ```sh
 * deno run -A jsr:@llmtrace/otel/view --port 4318
 * npx llmtrace view
 * ```
 *
 * `mod.ts` does not import this module: an app that never runs the viewer
 * loads none of it.
 *
 * @module
 */
import { viewHandler } from "./src/view/handler.ts";
import { serve } from "./src/view/serve.ts";
import { TraceStore } from "./src/view/store.ts";

/** Options of {@link startViewer}. */
export interface ViewerOptions {
  /** Port to listen on; 0 picks a free one. Default 4318. */
  port?: number;
  /** Interface to bind. Default `127.0.0.1` (loopback only). */
  host?: string;
  /** Traces kept in memory, the oldest dropped first. Default 1,000. */
  maxTraces?: number;
  /** Largest OTLP request body accepted, in bytes. Default 16 MiB. */
  maxBodyBytes?: number;
}

/** Counts of what a viewer holds (its memory is bounded by `maxTraces`). */
export interface ViewerStore {
  /** Traces kept. */
  readonly size: number;
  /** Spans kept, over all traces. */
  readonly spanCount: number;
  /** Traces dropped, oldest first, to stay within the limits. */
  readonly droppedTraces: number;
}

/** A running viewer. */
export interface Viewer {
  /** The page, e.g. `http://127.0.0.1:4318/`. */
  url: string;
  /** Where to send OTLP/HTTP traces, e.g. `http://127.0.0.1:4318/v1/traces`. */
  tracesUrl: string;
  /** The bound port. */
  port: number;
  /** What the viewer holds now. */
  store: ViewerStore;
  /** Stops the server. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/**
 * Starts the viewer.
 *
 * @example
 * ```ts
 * import { startViewer } from "@llmtrace/otel/view";
 *
 * const viewer = await startViewer({ port: 0 });
 * console.log(`open ${viewer.url}, send OTLP to ${viewer.tracesUrl}`);
 * await viewer.close();
 * ```
 */
export async function startViewer(
  options: ViewerOptions = {},
): Promise<Viewer> {
  const host = options.host ?? "127.0.0.1";
  const store = new TraceStore({ maxTraces: options.maxTraces });
  // Bound to loopback, the page answers only to loopback host names (a page
  // elsewhere cannot read it through DNS rebinding); bound wider, the user
  // chose who may reach it.
  const handler = viewHandler(store, {
    maxBodyBytes: options.maxBodyBytes,
    allowedHosts: LOOPBACK.has(host) ? undefined : ["*"],
  });
  const served = await serve(handler, host, options.port ?? 4318);
  const shown = host.includes(":") && !host.startsWith("[")
    ? `[${host}]`
    : host === "0.0.0.0" || host === "::"
    ? "localhost"
    : host;
  const origin = `http://${shown}:${served.port}`;
  return {
    url: `${origin}/`,
    tracesUrl: `${origin}/v1/traces`,
    port: served.port,
    store,
    close: served.close,
  };
}

const USAGE = `usage: llmtrace view [--port N] [--host H] [--max-traces N]

A local LLM trace viewer: send OTLP/HTTP traces (protobuf or JSON) to
http://HOST:PORT/v1/traces and open http://HOST:PORT/ in a browser.

  --port N        port to listen on (default 4318, OTLP/HTTP's)
  --host H        interface to bind (default 127.0.0.1: this machine only)
  --max-traces N  traces kept in memory, oldest dropped first (default 1000)
`;

function parseArgs(args: readonly string[]): ViewerOptions | string {
  const o: ViewerOptions = {};
  const rest = [...args];
  if (rest[0] === "view") rest.shift();
  while (rest.length) {
    const a = rest.shift()!;
    const [flag, inline] = a.includes("=") ? a.split(/=(.*)/s, 2) : [a];
    const value = () => {
      const v = inline ?? rest.shift();
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = (min: number) => {
      const v = value();
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < min) {
        throw new Error(`${flag} takes an integer ≥ ${min}, got "${v}"`);
      }
      return n;
    };
    if (flag === "--help" || flag === "-h") return USAGE;
    else if (flag === "--port" || flag === "-p") {
      o.port = int(0);
      if (o.port > 65535) throw new Error(`--port ${o.port} is over 65535`);
    } else if (flag === "--host") o.host = value();
    else if (flag === "--max-traces") o.maxTraces = int(1);
    else throw new Error(`unknown argument "${a}"\n\n${USAGE}`);
  }
  return o;
}

/**
 * The command line: parses `args` (`view` first is optional), starts the
 * viewer and prints where it listens. Returns the viewer, or `undefined`
 * after printing help or an error (with the exit code set).
 */
export async function main(
  args: readonly string[],
): Promise<Viewer | undefined> {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  const fail = (message: string) => {
    console.error(`llmtrace view: ${message}`);
    if (g.Deno) g.Deno.exitCode = 2;
    else if (g.process) g.process.exitCode = 2;
    return undefined;
  };
  let options: ViewerOptions | string;
  try {
    options = parseArgs(args);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (typeof options === "string") {
    console.log(options);
    return undefined;
  }
  let viewer: Viewer;
  try {
    viewer = await startViewer(options);
  } catch (e) {
    const err = e as { code?: string; name?: string; message?: string };
    if (
      err.code === "EADDRINUSE" || err.name === "AddrInUse" ||
      /in use/i.test(err.message ?? "")
    ) {
      return fail(
        `port ${
          options.port ?? 4318
        } is in use (a collector or another viewer?); ` +
          "choose another with --port",
      );
    }
    return fail(err.message ?? String(e));
  }
  console.log(`llmtrace view on ${viewer.url}`);
  console.log(
    `send OTLP/HTTP traces to ${viewer.tracesUrl} (protobuf or JSON)`,
  );
  if (!LOOPBACK.has(options.host ?? "127.0.0.1")) {
    console.log(
      `bound to ${options.host}: anyone who reaches it sees the traces`,
    );
  }
  return viewer;
}

// deno-lint-ignore no-explicit-any
if ((import.meta as any).main) {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  await main(g.Deno ? g.Deno.args : g.process.argv.slice(2));
}
