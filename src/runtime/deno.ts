import type { RuntimeAdapter } from "./types.ts";
import {
  contextWaitUntil,
  nativeApiRegistered,
  once,
  remoteAddrHostname,
} from "./shared.ts";

interface DenoPermissions {
  querySync(d: { name: "env"; variable?: string }): { state: string };
}
interface DenoLike {
  version: { deno: string };
  pid: number;
  env: {
    get(name: string): string | undefined;
    set(name: string, value: string): void;
    delete(name: string): void;
  };
  permissions: DenoPermissions;
}

function envAllowed(deno: DenoLike, variable?: string): boolean {
  try {
    const q = variable === undefined ? { name: "env" as const } : {
      name: "env" as const,
      variable,
    };
    return deno.permissions.querySync(q).state === "granted";
  } catch {
    return false;
  }
}

/** The Deno adapter: `Deno.env` behind permission checks, `unload` for exit. */
export function denoAdapter(deno: DenoLike): RuntimeAdapter {
  return {
    name: "deno",
    version: deno.version?.deno,
    backgroundTimers: true,
    pid: () => deno.pid,
    getEnv(name) {
      if (!envAllowed(deno, name)) return undefined;
      try {
        return deno.env.get(name);
      } catch {
        return undefined;
      }
    },
    setEnv(name, value) {
      if (!envAllowed(deno, name)) return false;
      try {
        if (value === undefined) deno.env.delete(name);
        else deno.env.set(name, value);
        return true;
      } catch {
        return false;
      }
    },
    onExit(fn) {
      // `beforeunload` fires when the event loop runs dry; the work `fn`
      // schedules (the export's fetch) keeps the process alive until it ends.
      const listener = once(fn);
      globalThis.addEventListener("beforeunload", listener);
      return () => globalThis.removeEventListener("beforeunload", listener);
    },
    // A cancelled response body still reaches the upstream through the
    // observing stream; the request signal is not read here.
    clientGoneSignal: () => undefined,
    clientAddress(_req, rest) {
      try {
        return remoteAddrHostname(rest); // Deno's ServeHandlerInfo
      } catch {
        return undefined; // only readable while the request is open
      }
    },
    // Deno Deploy and Netlify's edge pass a context with waitUntil.
    waitUntil: contextWaitUntil,
    nativeParent(api) {
      // With OTEL_DENO=true, Deno.serve has started its own server span
      // (having extracted the caller's context) and made it active.
      if (!nativeApiRegistered()) return undefined;
      const active = api.context.active();
      const sc = api.trace.getSpanContext(active);
      return sc && api.trace.isSpanContextValid(sc) ? active : undefined;
    },
    withSafeProcessEnv(fn) {
      if (envAllowed(deno)) return fn();
      const proc = (globalThis as { process?: { env: unknown } }).process;
      if (!proc) return fn();
      const saved = proc.env;
      try {
        proc.env = {};
        return fn();
      } finally {
        proc.env = saved;
      }
    },
  };
}
