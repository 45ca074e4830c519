/**
 * Small pieces more than one runtime adapter uses.
 *
 * @module
 */

/** `fn`, callable any number of times, run at most once. */
export function once(fn: () => Promise<void> | void): () => void {
  let ran = false;
  return () => {
    if (ran) return;
    ran = true;
    void fn();
  };
}

/**
 * The `waitUntil` of an execution context among a handler's extra arguments
 * (workerd's `fetch(req, env, ctx)`, and hosts that pass a context the same
 * way), bound to its context.
 */
export function contextWaitUntil(
  rest: readonly unknown[],
): ((promise: Promise<unknown>) => void) | undefined {
  for (const arg of rest) {
    const w = (arg as { waitUntil?: unknown } | null)?.waitUntil;
    if (typeof w === "function") {
      return (promise) => w.call(arg, promise);
    }
  }
  return undefined;
}

/** `info.remoteAddr.hostname` (Deno's `ServeHandlerInfo`, and the Node adapter's). */
export function remoteAddrHostname(
  rest: readonly unknown[],
): string | undefined {
  const host = (rest[0] as { remoteAddr?: { hostname?: unknown } } | undefined)
    ?.remoteAddr?.hostname;
  return typeof host === "string" ? host : undefined;
}

/**
 * Whether a runtime's built-in OpenTelemetry owns the global API: Deno's
 * (`OTEL_DENO=true`) registers itself in the API's global slot with version
 * `1.999.999`; a future Bun native telemetry is expected to do the same.
 */
export function nativeApiRegistered(): boolean {
  const slot =
    (globalThis as Record<symbol, { version?: unknown } | undefined>)[
      Symbol.for("opentelemetry.js.api.1")
    ];
  return slot?.version === "1.999.999";
}
