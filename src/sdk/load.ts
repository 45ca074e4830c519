/**
 * Loading the OpenTelemetry SDK and exporter: lazily (dynamic import of
 * `bundle.ts`), once, and tolerant of failure, so an app whose SDK cannot
 * load runs exactly as without tracing.
 *
 * @module
 */
import { loadOtelApi } from "../core/api.ts";

/** The lazily imported SDK modules. */
export type SdkModule = typeof import("./bundle.ts");

let loader: () => Promise<SdkModule> = () => import("./bundle.ts");
let sdkPromise: Promise<SdkModule> | undefined;
let loadError: unknown;

/** Loads the SDK and the API (once; a failed load may be retried). @internal */
function loadSdk(): Promise<SdkModule> {
  return sdkPromise ??= Promise.all([loader(), loadOtelApi()]).then(
    ([m]) => {
      loadError = undefined;
      return m;
    },
    (e) => {
      loadError = e;
      sdkPromise = undefined; // a later call may try again
      throw e;
    },
  );
}

/**
 * {@link loadSdk}, with a failure turned into an Error that says what could
 * not be done and keeps the original as `cause`. @internal
 *
 * @param what What needed the SDK, e.g. "no tracer can be initialized".
 */
export async function requireSdk(what: string): Promise<SdkModule> {
  try {
    return await loadSdk();
  } catch (e) {
    throw new Error(
      `OpenTelemetry is not available: loading the SDK and exporter failed, ` +
        `so ${what}. Original error: ` +
        (e instanceof Error ? e.message : String(e)),
      { cause: e },
    );
  }
}

/**
 * Replaces how the SDK is loaded. For tests that simulate a failed load, and
 * for hosts that bundle the SDK differently; not part of the public API.
 *
 * @internal
 */
export function _setSdkLoader(fn: (() => Promise<SdkModule>) | undefined) {
  loader = fn ?? (() => import("./bundle.ts"));
  sdkPromise = undefined;
  loadError = undefined;
}

/**
 * Tells whether the OpenTelemetry SDK and exporter can be loaded, by loading
 * them (once; the result is cached). Unlike vLLM's `is_tracing_available`,
 * which always says `true`, this tells the truth.
 *
 * @returns `true` when the SDK loaded, `false` when loading failed.
 *
 * @example
 * ```ts
 * import { initTracer, isOtelAvailable } from "@llmtrace/otel";
 *
 * if (await isOtelAvailable()) {
 *   await initTracer("my.server");
 * }
 * ```
 */
export async function isOtelAvailable(): Promise<boolean> {
  try {
    await loadSdk();
    return true;
  } catch {
    return false;
  }
}

/**
 * The error that made the last SDK load fail, if any (vLLM's
 * `otel_import_error_traceback`).
 *
 * @returns The original error, or `undefined`.
 *
 * @example
 * ```ts
 * import { isOtelAvailable, otelImportError } from "@llmtrace/otel";
 *
 * if (!(await isOtelAvailable())) console.error(otelImportError());
 * ```
 */
export function otelImportError(): unknown {
  return loadError;
}
