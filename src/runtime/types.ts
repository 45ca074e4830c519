/**
 * The small surface each runtime adapter implements. The core of llmtrace never
 * branches on the runtime; it asks the adapter chosen once by `detect.ts`.
 *
 * @module
 */

import type { OtelApi } from "../core/api.ts";
import type { Context } from "../core/types.ts";

/** What llmtrace needs from the runtime it runs on. */
export interface RuntimeAdapter {
  /** `process.runtime.name`: "deno", "bun", "node" or "workerd"/"web". */
  readonly name: string;
  /** `process.runtime.version`, when the runtime tells. */
  readonly version: string | undefined;
  /**
   * Whether a timer may do I/O outside a request. False on workerd, which
   * refuses it: periodic exports never run there, flushes go through
   * `waitUntil` instead.
   */
  readonly backgroundTimers: boolean;
  /** The process id, when the runtime has processes. */
  pid(): number | undefined;
  /**
   * Reads an environment variable. Never throws and never prompts: without
   * permission (Deno without `--allow-env`) it returns `undefined`.
   */
  getEnv(name: string): string | undefined;
  /**
   * Writes (or, with `undefined`, removes) an environment variable. Returns
   * false instead of throwing where the runtime forbids it.
   */
  setEnv(name: string, value: string | undefined): boolean;
  /**
   * Registers `fn` to run once when the process is about to exit normally
   * (Deno `unload`, Bun/Node `beforeExit`). Returns a function that removes it.
   */
  onExit(fn: () => Promise<void> | void): () => void;
  /**
   * Runs `fn` with the runtime's global `process.env` made safe for the
   * OpenTelemetry SDK to read (it reads `process.env` directly, which throws in
   * Deno without `--allow-env`).
   */
  withSafeProcessEnv<T>(fn: () => T): T;
  /**
   * A signal that aborts when the client of a served request goes away, if
   * the runtime gives a reliable one (Deno's `request.signal` also aborts
   * after successful responses in its legacy mode, and warns when read).
   */
  clientGoneSignal(req: Request): AbortSignal | undefined;
  /**
   * The peer address of a served request, from what the runtime passes next
   * to the `Request` (Deno's `info`, Bun's `server`, workerd's headers).
   */
  clientAddress(req: Request, rest: readonly unknown[]): string | undefined;
  /**
   * The execution context's `waitUntil` among a handler's extra arguments
   * (workerd's `ctx`), which keeps the isolate alive for a promise.
   */
  waitUntil(
    rest: readonly unknown[],
  ): ((promise: Promise<unknown>) => void) | undefined;
  /**
   * With the runtime's built-in telemetry on (Deno's `OTEL_DENO=true`), the
   * context of the runtime's own server span for the request being served,
   * so llmtrace's span nests under it.
   */
  nativeParent(api: OtelApi): Context | undefined;
}
