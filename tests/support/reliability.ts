/**
 * The setup of the reliability tests (export failures, shutdown and exit,
 * hostile input, API misuse): each test builds its own provider (one at a
 * time: initTracer ... then shutdownTracing()) against a real OTLP receiver
 * or a dead loopback port, restores every environment variable it sets, and
 * the file records every unhandled promise rejection for its last test.
 *
 * @module
 */
import { after, before } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { diag, DiagLogLevel, type Tracer } from "@opentelemetry/api";
import {
  initTracer,
  isTracingEnabled,
  shutdownTracing,
} from "../../src/sdk/tracer_provider.ts";
import type { ReceivedSpan } from "./otlp_receiver.ts";
import { CLEAN_ENV, isDeno, setEnv, sleep } from "./helpers.ts";

/**
 * Registers the file's `before`/`after` hooks: no provider may be left by
 * another file; unhandled promise rejections, anywhere in the file, are
 * collected into the returned array (the file's last test asserts it stays
 * empty); afterwards any provider is shut down and `diag` disabled.
 */
export function useReliabilityHooks(): unknown[] {
  const unhandled: unknown[] = [];
  const onNodeRejection = (reason: unknown) => {
    unhandled.push(reason);
  };
  const onWebRejection = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    unhandled.push(e.reason);
  };
  before(() => {
    assert.equal(isTracingEnabled(), false, "no provider left by another file");
    if (isDeno) {
      globalThis.addEventListener("unhandledrejection", onWebRejection);
    } else process.on("unhandledRejection", onNodeRejection);
  });
  after(async () => {
    await shutdownTracing().catch(() => {});
    diag.disable();
    if (isDeno) {
      globalThis.removeEventListener("unhandledrejection", onWebRejection);
    } else process.off("unhandledRejection", onNodeRejection);
  });
  return unhandled;
}

/** True while a test captures `diag` itself (initTracer must not replace it). */
let diagCaptured = false;

/** Collects `diag` output (all levels down to info) while a test runs. */
export function captureDiag(): { lines: string[]; stop(): void } {
  const lines: string[] = [];
  diagCaptured = true;
  const at = (level: string) => (msg: string, ...args: unknown[]) => {
    lines.push(`${level} ${msg}${args.length ? " " + args.join(" ") : ""}`);
  };
  diag.setLogger({
    error: at("error"),
    warn: at("warn"),
    info: at("info"),
    debug: () => {},
    verbose: () => {},
  }, { logLevel: DiagLogLevel.INFO, suppressOverrideMessage: true });
  return {
    lines,
    stop: () => {
      diagCaptured = false;
      diag.disable();
    },
  };
}

/** Builds a provider with `env` set, runs `fn`, always shuts down and restores. */
export async function withTracing<T>(
  name: string,
  url: string,
  env: Record<string, string | undefined>,
  fn: (tracer: Tracer) => Promise<T>,
): Promise<T> {
  const restore = setEnv({ ...CLEAN_ENV, ...env });
  try {
    const tracer = await initTracer(
      name,
      url,
      undefined,
      diagCaptured ? { diagLogger: null } : {},
    );
    return await fn(tracer);
  } finally {
    try {
      await shutdownTracing().catch(() => {});
    } finally {
      restore();
    }
  }
}

/** Resolves with how long `p` took to settle, and whether it rejected. */
export async function settleTime(
  p: Promise<unknown>,
): Promise<{ ms: number; rejected: boolean }> {
  const t0 = performance.now();
  let rejected = false;
  await p.catch(() => (rejected = true));
  return { ms: performance.now() - t0, rejected };
}

/** Polls `cond` every 20 ms until true; fails after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    }
    await sleep(20);
  }
}

/** The names of `spans`. */
export const names = (spans: ReceivedSpan[]): Set<string> =>
  new Set(spans.map((s) => s.name));
