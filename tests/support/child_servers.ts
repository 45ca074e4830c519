/**
 * Long-running child processes of tests (workerd, the example servers):
 * stopped by their pid, bounded in time.
 *
 * @module
 */
import type { ChildProcess } from "node:child_process";
import process from "node:process";

/** Stops a child by its pid, bounded: SIGTERM, then SIGKILL after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      resolve();
    }, graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      if (child.pid) process.kill(child.pid, "SIGTERM");
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

/**
 * Waits until `url` answers 2xx (polled every 50 ms, each try bounded to
 * 2 s), at most `timeoutMs`; throws at once, with `log()`, if `child` exits.
 */
export async function waitUntilServing(
  child: ChildProcess,
  url: string,
  log: () => string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${url}: the server exited early (${child.exitCode})\n${log()}`,
      );
    }
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await r.text();
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${url} did not answer in ${timeoutMs} ms\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
