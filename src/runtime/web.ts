import type { RuntimeAdapter } from "./types.ts";
import { contextWaitUntil } from "./shared.ts";

/**
 * The adapter for runtimes without processes or an environment (Cloudflare
 * workerd, browsers): no env, no pid, no exit hook; flush with `waitUntil`.
 */
export function webAdapter(name = "web", version?: string): RuntimeAdapter {
  const env = new Map<string, string>();
  return {
    name,
    version,
    backgroundTimers: name !== "workerd",
    pid: () => undefined,
    getEnv: (key) => env.get(key),
    setEnv(key, value) {
      if (value === undefined) env.delete(key);
      else env.set(key, value);
      return true;
    },
    onExit: () => () => {},
    withSafeProcessEnv: (fn) => fn(),
    clientGoneSignal: (req) => req.signal,
    // Cloudflare puts the client's address in a header it sets itself.
    clientAddress: (req) => req.headers.get("cf-connecting-ip") ?? undefined,
    // workerd's fetch(req, env, ctx): exports go through ctx.waitUntil.
    waitUntil: contextWaitUntil,
    nativeParent: () => undefined,
  };
}
