/**
 * The tracer provider's life: `initTracer`, `initWorkerTracer`, `forceFlush`,
 * `shutdownTracing`. One provider per process.
 *
 * @module
 */
import type { Attributes, Tracer } from "../core/types.ts";
import { _api, loadOtelApi } from "../core/api.ts";
import { loadWireReaders } from "../genai/wire.ts";
import { VLLM_PROCESS_KIND, VLLM_PROCESS_NAME } from "../core/keys.ts";
import { _setProvider } from "../core/tracer.ts";
import { awaitPending } from "../core/pending.ts";
import {
  expectAttributesObject,
  expectObject,
  expectString,
} from "../core/validate.ts";
import { nativeTelemetry, runtime } from "../runtime/detect.ts";
import {
  exportEndpointToEnv,
  inheritedTracesEndpoint,
  sdkDisabled,
} from "../core/env_config.ts";
import { resolveExporterConfig } from "./exporter_config.ts";
import { warnExportFailure } from "./diag.ts";
import { requireSdk } from "./load.ts";
import {
  flushMetrics,
  shutdownMetrics,
  startMetrics,
} from "../metrics/meter_provider.ts";
import type { Provider } from "./setup.ts";
import {
  checkSpanProcessors,
  type InitTracerOptions,
  metricsEndpointFor,
} from "./init_options.ts";

interface State {
  provider: Provider;
  endpoint: string;
  /** Removes the exit hook and puts back the endpoint variable. */
  detach: () => void;
  /** Unregisters the globals `initTracer` registered. */
  unregister: () => void;
}
let state: State | undefined;
let warnedSecondInit = false;
let warnedNative = false;

/**
 * Sets up tracing for this process: an OpenTelemetry `WebTracerProvider` with
 * a batch span processor and the OTLP http/protobuf exporter (sent with
 * `fetch`), registered as the global provider so `@opentelemetry/api` users see
 * it. The SDK is loaded here, lazily.
 *
 * One provider per process: a second call returns a tracer of the same
 * provider and warns once. With `OTEL_SDK_DISABLED=true` nothing is set up and
 * the returned tracer is the API's (a no-op unless another provider exists).
 *
 * The endpoint is the explicit argument, else `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
 * else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else
 * `http://localhost:4318/v1/traces`. The resource has `service.name` (from
 * `OTEL_SERVICE_NAME`, else the module name), `OTEL_RESOURCE_ATTRIBUTES`, the
 * module name, the process id, `process.runtime.name`/`version` and
 * `extraAttributes`. The sampler and batching follow `OTEL_TRACES_SAMPLER[_ARG]`
 * and `OTEL_BSP_*`. `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL=console` (as Deno's
 * built-in telemetry takes it) or `OTEL_TRACES_EXPORTER=console` prints
 * spans with the SDK's `ConsoleSpanExporter` instead (`otlp,console`: both;
 * `none`: neither).
 *
 * @param instrumentingModuleName The module name, e.g. `"vllm.llm_engine"`.
 * @param otlpTracesEndpoint The full OTLP/HTTP traces URL.
 * @param extraAttributes Extra resource attributes.
 * @param options See {@link InitTracerOptions}.
 * @returns A tracer of the (one) provider.
 * @throws {Error} when the SDK cannot be loaded (with the original error as
 * `cause`), the protocol is not `http/protobuf` (or `console`), or the
 * endpoint is not a URL.
 *
 * @example
 * ```ts
 * import { initTracer, shutdownTracing } from "@llmtrace/otel";
 *
 * const tracer = await initTracer("my.router", "http://127.0.0.1:4318/v1/traces");
 * tracer.startSpan("hello").end();
 * await shutdownTracing();
 * ```
 */
export async function initTracer(
  instrumentingModuleName: string,
  otlpTracesEndpoint?: string,
  extraAttributes?: Attributes,
  options: InitTracerOptions = {},
): Promise<Tracer> {
  expectString(instrumentingModuleName, "instrumentingModuleName", true);
  expectAttributesObject(extraAttributes, "extraAttributes");
  expectObject(options, "initTracer options");
  checkSpanProcessors(options.spanProcessors);
  if (sdkDisabled()) {
    return (await loadOtelApi()).trace.getTracer(instrumentingModuleName);
  }
  // The readers of the wire APIs beyond OpenAI's, before the first request.
  await loadWireReaders();
  const native = nativeTelemetry();
  // A misconfiguration of traces, then of metrics, is an error here.
  const config = native ? undefined : resolveExporterConfig(otlpTracesEndpoint);
  await startMetrics({
    serviceName: instrumentingModuleName,
    resourceAttributes: extraAttributes ?? undefined,
    endpoint: metricsEndpointFor(otlpTracesEndpoint),
    // The exit hook below shuts both down; without it, neither.
    flushOnExit: false,
  });
  if (native || !config) {
    // The runtime exports spans itself: a second provider would export twice
    // and could not become global anyway. Use the runtime's.
    if (!warnedNative) {
      warnedNative = true;
      console.info(
        `llmtrace: ${native}'s built-in OpenTelemetry is active; llmtrace ` +
          `records its spans through it instead of starting its own exporter.`,
      );
    }
    return (await loadOtelApi()).trace.getTracer(instrumentingModuleName);
  }
  if (state) {
    if (!warnedSecondInit) {
      warnedSecondInit = true;
      console.warn(
        `llmtrace: initTracer("${instrumentingModuleName}") was called again; ` +
          `returning a tracer of the existing provider (exporting to ` +
          `${state.endpoint}) instead of building a second one.`,
      );
    }
    return state.provider.getTracer(instrumentingModuleName);
  }
  const sdk = await requireSdk("no tracer can be initialized");
  // A concurrent call may have finished while the SDK loaded. From here on
  // nothing awaits, so this call builds the one provider.
  if (state) {
    return (state as State).provider.getTracer(instrumentingModuleName);
  }
  const api = _api()!; // loaded with the SDK

  const provider = sdk.buildProvider(api, sdk, {
    moduleName: instrumentingModuleName,
    extraAttributes: (extraAttributes ?? {}) as Attributes,
    config,
    spanProcessors: options.spanProcessors ?? [],
  });
  const globals = sdk.registerGlobals(api, sdk, provider, options);
  if (!globals.providerIsGlobal) {
    console.warn(
      "llmtrace: a global tracer provider was already registered; llmtrace's " +
        "spans go to its own provider, and API users keep the existing one.",
    );
  }
  // Printing to the console (or exporting nowhere) hands children no endpoint.
  const restoreEnv = options.exportEndpointToEnv === false || !config.otlp
    ? () => {}
    : exportEndpointToEnv(config.url);
  const removeExitHook = options.flushOnExit === false
    ? () => {}
    : runtime().onExit(() => shutdownTracing().catch(() => {}));
  state = {
    provider,
    endpoint: config.url,
    detach() {
      removeExitHook();
      restoreEnv();
    },
    unregister: globals.unregister,
  };
  _setProvider(provider, config.otlp ? config.url : "", forceFlush);
  return provider.getTracer(instrumentingModuleName);
}

/**
 * Initializes tracing in a worker process when its parent handed it an
 * endpoint through `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (see {@link traceEnv}),
 * with `vllm.process_kind` and `vllm.process_name` resource attributes.
 *
 * @param instrumentingModuleName The module name, e.g. `"vllm.worker"`.
 * @param processKind The kind of process, e.g. `"worker"`.
 * @param processName The process's name, e.g. `"Worker_0"`.
 * @returns A tracer, or `undefined` when no endpoint was handed down.
 *
 * @example
 * ```ts
 * import { initWorkerTracer } from "@llmtrace/otel";
 *
 * const tracer = await initWorkerTracer("my.worker", "worker", "Worker_0");
 * tracer?.startSpan("load weights").end();
 * ```
 */
export async function initWorkerTracer(
  instrumentingModuleName: string,
  processKind: string,
  processName: string,
): Promise<Tracer | undefined> {
  expectString(processKind, "processKind");
  expectString(processName, "processName");
  const endpoint = inheritedTracesEndpoint();
  if (!endpoint) return undefined;
  return await initTracer(instrumentingModuleName, endpoint, {
    [VLLM_PROCESS_KIND]: processKind,
    [VLLM_PROCESS_NAME]: processName,
  });
}

/**
 * Exports every finished span now. A no-op without a provider; never
 * rejects (a failed export is one console warning).
 *
 * @example
 * ```ts
 * import { forceFlush } from "@llmtrace/otel";
 *
 * await forceFlush();
 * ```
 */
export async function forceFlush(): Promise<void> {
  // Spans that end with a JSON answer's bounded read end a moment after the
  // caller read the answer: let them.
  await awaitPending(1_000);
  const s = state;
  const spans = s?.provider.forceFlush().catch((e) =>
    warnExportFailure("forceFlush", s.endpoint, e)
  );
  await Promise.all([spans, flushMetrics()]);
}

/**
 * Flushes and shuts down the provider and unregisters what `initTracer`
 * registered, so a later `initTracer` starts afresh. Idempotent, safe
 * without `initTracer`, never rejects.
 *
 * @example
 * ```ts
 * import { initTracer, shutdownTracing } from "@llmtrace/otel";
 *
 * await initTracer("my.server");
 * await shutdownTracing();
 * ```
 */
export async function shutdownTracing(): Promise<void> {
  const metrics = shutdownMetrics();
  const s = state;
  if (!s) return await metrics;
  state = undefined;
  warnedSecondInit = false;
  _setProvider(undefined);
  s.detach();
  try {
    await s.provider.shutdown();
  } catch (e) {
    warnExportFailure("shutdown", s.endpoint, e);
  } finally {
    s.unregister();
  }
  await metrics;
}

/**
 * Whether `initTracer` has set up a provider that is still running.
 *
 * @returns `true` between `initTracer` and `shutdownTracing`.
 *
 * @example
 * ```ts
 * import { isTracingEnabled } from "@llmtrace/otel";
 *
 * console.log(isTracingEnabled()); // false before initTracer
 * ```
 */
export function isTracingEnabled(): boolean {
  return state !== undefined;
}
