import type { RuntimeAdapter } from "./types.ts";
import { contextWaitUntil, once, remoteAddrHostname } from "./shared.ts";

interface ProcessLike {
  pid?: number;
  versions?: Record<string, string | undefined>;
  env: Record<string, string | undefined>;
  on?(event: string, fn: () => void): void;
  off?(event: string, fn: () => void): void;
  removeListener?(event: string, fn: () => void): void;
}

/**
 * The adapter for runtimes with a Node-style `process` (Node itself, and Bun
 * through `bunAdapter`): `process.env`, and `beforeExit` for exit.
 */
export function nodeAdapter(
  proc: ProcessLike,
  name = "node",
  version: string | undefined = proc.versions?.node,
): RuntimeAdapter {
  return {
    name,
    version,
    backgroundTimers: true,
    pid: () => proc.pid,
    getEnv(key) {
      try {
        return proc.env[key];
      } catch {
        return undefined;
      }
    },
    setEnv(key, value) {
      try {
        if (value === undefined) delete proc.env[key];
        else proc.env[key] = value;
        return true;
      } catch {
        return false;
      }
    },
    onExit(fn) {
      const listener = once(fn);
      proc.on?.("beforeExit", listener);
      return () => {
        if (proc.off) proc.off("beforeExit", listener);
        else proc.removeListener?.("beforeExit", listener);
      };
    },
    withSafeProcessEnv: (fn) => fn(),
    clientGoneSignal: (req) => req.signal,
    // node:http has no fetch handler: the adapter that bridges it (see
    // examples/node/node_http.mjs) passes `{ remoteAddr: { hostname } }`.
    clientAddress: (_req, rest) => remoteAddrHostname(rest),
    waitUntil: contextWaitUntil,
    nativeParent: () => undefined,
  };
}
