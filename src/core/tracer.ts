/**
 * The per-request tracer slot: the one place the request paths ask for a
 * tracer and whether anything records spans. `initTracer` (src/sdk/) fills
 * the slot with its provider; without one, the global API's provider is used
 * (a user's own SDK, Deno's built-in telemetry, or the no-op).
 *
 * @module
 */
import type { Tracer } from "./types.ts";
import { _api, _foreignProviderRegistered, loadOtelApi } from "./api.ts";
import { nativeTelemetry } from "../runtime/detect.ts";
import { VERSION } from "./version.ts";

/** The package's name and version, used as the instrumentation scope. */
export const LLMTRACE_SCOPE = { name: "llmtrace", version: VERSION } as const;

/** What the slot needs of a tracer provider. */
export interface TracerSource {
  getTracer(name: string, version?: string): Tracer;
}

interface Slot {
  provider: TracerSource;
  endpoint: string;
  flush: () => Promise<void>;
  /** llmtrace's own tracer of this provider, once asked for. */
  tracer?: Tracer;
}
let slot: Slot | undefined;

/**
 * Puts `initTracer`'s provider in the slot (or empties it). @internal
 *
 * @param provider The provider, or `undefined` after shutdown.
 * @param endpoint Where it exports to (handed to child processes).
 * @param flush Exports what has ended (`forceFlush`); never rejects.
 */
export function _setProvider(
  provider: TracerSource | undefined,
  endpoint = "",
  flush: () => Promise<void> = () => Promise.resolve(),
): void {
  slot = provider ? { provider, endpoint, flush } : undefined;
}

/**
 * Exports every span that has ended, through the provider in the slot (a
 * no-op without one). For the request paths that must flush themselves,
 * e.g. through workerd's `waitUntil`. Never rejects. @internal
 */
export function _flush(): Promise<void> {
  return slot ? slot.flush() : Promise.resolve();
}

/**
 * The tracer llmtrace's own spans come from: the provider `initTracer` built,
 * else whatever the global API has. Callers have checked
 * {@link _tracingActive}, so the API is loaded. @internal
 */
export function _tracer(name?: string, version?: string): Tracer {
  const s = slot;
  if (name === undefined) {
    // llmtrace's own tracer, asked for on every request: kept, not looked up.
    if (s) return s.tracer ??= s.provider.getTracer(SCOPE_NAME, SCOPE_VERSION);
    return _api()!.trace.getTracer(SCOPE_NAME, SCOPE_VERSION);
  }
  return s
    ? s.provider.getTracer(name, version)
    : _api()!.trace.getTracer(name, version);
}
const SCOPE_NAME = LLMTRACE_SCOPE.name;
const SCOPE_VERSION = LLMTRACE_SCOPE.version;

let noopProvider: unknown;

/**
 * Whether spans would be recorded anywhere: llmtrace's provider runs, or some
 * other provider (a user's SDK, Deno's built-in telemetry) is registered
 * globally. When false, the wrappers skip all tracing work. Whenever this is
 * true, the API is loaded. Seeing a provider registered by a copy of the API
 * this module has not loaded yet starts loading it; the wrappers follow that
 * provider as soon as the load is done. @internal
 */
export function _tracingActive(): boolean {
  if (slot) return true;
  const api = _api();
  if (!api) {
    if (_foreignProviderRegistered() || nativeTelemetry() !== undefined) {
      loadOtelApi().catch(() => {});
    }
    return false;
  }
  noopProvider ??= new api.ProxyTracerProvider().getDelegate();
  const global = api.trace.getTracerProvider() as {
    getDelegate?: () => unknown;
  };
  return typeof global.getDelegate !== "function" ||
    global.getDelegate() !== noopProvider;
}

/** The endpoint `initTracer`'s provider exports to, if one runs. @internal */
export function _currentEndpoint(): string | undefined {
  return slot?.endpoint;
}
