/**
 * The tracer provider's life: `initTracer`, `initWorkerTracer`, `forceFlush`,
 * `shutdownTracing`, and the lazy, failure-tolerant loading of the SDK.
 *
 * @module
 */
import type {
  Attributes,
  ContextManager,
  DiagLogger,
  Tracer,
} from "./types.ts";
import { nativeTelemetry, runtime } from "./runtime/detect.ts";
import { describe, resolveExporterConfig } from "./exporter_config.ts";
import { _webCryptoIdGenerator, _withRandomTraceIdFlag } from "./ids.ts";
import {
  _api,
  _foreignProviderRegistered,
  loadOtelApi,
  type OtelApi,
} from "./api.ts";

import type { SpanExporter, SpanProcessor } from "./types.ts";

type SdkModule = typeof import("./sdk.ts");
type Provider = InstanceType<SdkModule["WebTracerProvider"]>;

/** The package's name and version, used as the instrumentation scope. */
export const LLMTRACE_SCOPE = { name: "llmtrace", version: "0.1.0" } as const;

let loader: () => Promise<SdkModule> = () => import("./sdk.ts");
let sdkPromise: Promise<SdkModule> | undefined;
let loadError: unknown;

interface State {
  api: OtelApi;
  provider: Provider;
  /** llmtrace's own tracer of this provider, once asked for. */
  tracer?: Tracer;
  endpoint: string;
  registered: {
    trace: boolean;
    propagation: boolean;
    context: boolean;
    diag: boolean;
  };
  removeExitHook: () => void;
  /** Puts back the endpoint variable initTracer wrote for child processes. */
  restoreEnv: () => void;
}
let state: State | undefined;
let warnedSecondInit = false;
let warnedNative = false;

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
 * Replaces how the SDK is loaded. For tests that simulate a failed load, and
 * for hosts that bundle the SDK differently; not part of the public API.
 *
 * @internal
 */
export function _setSdkLoader(fn: (() => Promise<SdkModule>) | undefined) {
  loader = fn ?? (() => import("./sdk.ts"));
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

/**
 * Options of {@link initTracer} beyond vLLM's three arguments.
 *
 * @example
 * ```ts
 * import { initTracer, type InitTracerOptions } from "@llmtrace/otel";
 *
 * const options: InitTracerOptions = { contextManager: null, flushOnExit: true };
 * await initTracer("my.server", undefined, undefined, options);
 * ```
 */
export interface InitTracerOptions {
  /**
   * The context manager to register when none is registered yet. `undefined`
   * registers the web SDK's `StackContextManager` (synchronous nesting, no
   * AsyncLocalStorage); `null` registers none. llmtrace never needs one for
   * correctness: its request spans pass context explicitly.
   * @default undefined
   */
  contextManager?: ContextManager | null;
  /**
   * Write the endpoint to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` so child
   * processes inherit it, as vLLM does (skipped where the runtime forbids it).
   * @default true
   */
  exportEndpointToEnv?: boolean;
  /**
   * Flush and shut down on normal process exit (Deno `beforeunload`,
   * Bun/Node `beforeExit`).
   * @default true
   */
  flushOnExit?: boolean;
  /**
   * More span processors after llmtrace's batch exporter, e.g. a second
   * exporter for another collector.
   */
  spanProcessors?: SpanProcessor[];
  /**
   * Where the SDK's diagnostics go (export failures, "Dropped N spans because
   * maxQueueSize reached"): a console logger at `OTEL_LOG_LEVEL` (default
   * WARN) unless given; `null` leaves the global diag logger alone.
   */
  diagLogger?: DiagLogger | null;
}

const LOG_LEVELS = [
  "NONE",
  "ERROR",
  "WARN",
  "INFO",
  "DEBUG",
  "VERBOSE",
  "ALL",
] as const;

/** The SDK's diagnostics on the console, marked as llmtrace's. */
const consoleDiagLogger: DiagLogger = {
  error: (msg, ...args) => console.error("llmtrace (otel):", msg, ...args),
  warn: (msg, ...args) => console.warn("llmtrace (otel):", msg, ...args),
  info: (msg, ...args) => console.info("llmtrace (otel):", msg, ...args),
  debug: (msg, ...args) => console.debug("llmtrace (otel):", msg, ...args),
  verbose: (msg, ...args) => console.debug("llmtrace (otel):", msg, ...args),
};

function warnExportFailure(op: string, endpoint: string, e: unknown): void {
  const err = Array.isArray(e) ? e[0] : e;
  console.warn(
    `llmtrace: ${op}: spans could not be exported to ${endpoint}: ${
      err instanceof Error ? err.message : String(err)
    }`,
  );
}

function isDisabled(): boolean {
  return runtime().getEnv("OTEL_SDK_DISABLED")?.trim().toLowerCase() === "true";
}

function checkAttributes(name: string, value: unknown): Attributes {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `${name} must be an object of attribute values, got ${describe(value)}`,
    );
  }
  return value as Attributes;
}

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
 * and `OTEL_BSP_*`. Trace and span ids come from `crypto.getRandomValues`, and
 * spans carry W3C Trace Context level 2's random-trace-id flag (`0x02`): set
 * on the traces this provider starts, kept as the parent has it otherwise.
 *
 * @param instrumentingModuleName The module name, e.g. `"vllm.llm_engine"`.
 * @param otlpTracesEndpoint The full OTLP/HTTP traces URL.
 * @param extraAttributes Extra resource attributes.
 * @param options See {@link InitTracerOptions}.
 * @returns A tracer of the (one) provider.
 * @throws {Error} when the SDK cannot be loaded (with the original error as
 * `cause`), the protocol is not `http/protobuf`, or the endpoint is not a URL.
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
  if (
    typeof instrumentingModuleName !== "string" ||
    instrumentingModuleName === ""
  ) {
    throw new TypeError(
      `instrumentingModuleName must be a non-empty string, got ${
        describe(instrumentingModuleName)
      }`,
    );
  }
  const extra = checkAttributes("extraAttributes", extraAttributes);
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `initTracer options must be an object, got ${describe(options)}`,
    );
  }
  const sp = options.spanProcessors;
  if (
    sp !== undefined &&
    (!Array.isArray(sp) ||
      !sp.every((p) => p && typeof p.onEnd === "function"))
  ) {
    throw new TypeError(
      `options.spanProcessors must be an array of SpanProcessor, got ${
        describe(sp)
      }`,
    );
  }
  if (isDisabled()) {
    return (await loadOtelApi()).trace.getTracer(instrumentingModuleName);
  }
  const native = nativeTelemetry();
  if (native) {
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
  const config = resolveExporterConfig(otlpTracesEndpoint);
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
  let sdk: SdkModule;
  try {
    sdk = await loadSdk();
  } catch (e) {
    throw new Error(
      "OpenTelemetry is not available: loading the SDK and exporter failed, " +
        "so no tracer can be initialized. Original error: " +
        (e instanceof Error ? e.message : String(e)),
      { cause: e },
    );
  }
  if (state) {
    return (state as State).provider.getTracer(instrumentingModuleName);
  }
  const { context, diag, DiagLogLevel, propagation, trace } = _api()!;

  const rt = runtime();
  const pid = rt.pid();
  const base: Attributes = {
    "service.name": instrumentingModuleName,
    "vllm.instrumenting_module_name": instrumentingModuleName,
    "process.runtime.name": rt.name,
  };
  if (rt.version) base["process.runtime.version"] = rt.version;
  if (pid !== undefined) {
    base["process.pid"] = pid;
    base["vllm.process_id"] = String(pid);
  }
  const provider = rt.withSafeProcessEnv(() => {
    const detected = sdk.detectResources({ detectors: [sdk.envDetector] });
    const resource = sdk.defaultResource()
      .merge(sdk.resourceFromAttributes(base))
      .merge(detected)
      .merge(sdk.resourceFromAttributes(extra));
    const exporter: SpanExporter = new sdk.OTLPTraceExporter({
      url: config.url,
      headers: config.headers,
      timeoutMillis: config.timeoutMillis,
    });
    // Ids from crypto.getRandomValues (the SDK's own use Math.random), and
    // W3C level 2's random-trace-id flag on the spans: set on the traces
    // this provider starts, kept (set or unset) from a parent.
    const idGenerator = _webCryptoIdGenerator();
    return _withRandomTraceIdFlag(
      _api()!,
      new sdk.WebTracerProvider({
        resource,
        ...(idGenerator ? { idGenerator } : {}),
        spanProcessors: [
          new sdk.BatchSpanProcessor(exporter),
          ...(options.spanProcessors ?? []),
        ],
      }),
      idGenerator !== undefined,
    );
  });

  const registered = {
    trace: trace.setGlobalTracerProvider(provider),
    propagation: propagation.setGlobalPropagator(
      new sdk.CompositePropagator({
        propagators: [
          new sdk.W3CTraceContextPropagator(),
          new sdk.W3CBaggagePropagator(),
        ],
      }),
    ),
    context: false,
    diag: false,
  };
  if (options.diagLogger !== null) {
    const name = rt.getEnv("OTEL_LOG_LEVEL")?.trim().toUpperCase();
    const known = LOG_LEVELS.find((l) => l === name);
    const level = known ? DiagLogLevel[known] : DiagLogLevel.WARN;
    registered.diag = diag.setLogger(
      options.diagLogger ?? consoleDiagLogger,
      { logLevel: level, suppressOverrideMessage: true },
    );
  }
  if (options.contextManager !== null) {
    const cm = options.contextManager ?? new sdk.StackContextManager();
    cm.enable();
    registered.context = context.setGlobalContextManager(cm);
    if (!registered.context) cm.disable();
  }
  if (!registered.trace) {
    console.warn(
      "llmtrace: a global tracer provider was already registered; llmtrace's " +
        "spans go to its own provider, and API users keep the existing one.",
    );
  }
  let restoreEnv = () => {};
  if (options.exportEndpointToEnv !== false) {
    const previous = rt.getEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    if (rt.setEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", config.url)) {
      restoreEnv = () => {
        rt.setEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", previous);
      };
    }
  }
  const removeExitHook = options.flushOnExit === false
    ? () => {}
    : rt.onExit(() => shutdownTracing().catch(() => {}));
  state = {
    api: _api()!,
    provider,
    endpoint: config.url,
    registered,
    removeExitHook,
    restoreEnv,
  };
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
  for (
    const [n, v] of [["processKind", processKind], ["processName", processName]]
  ) {
    if (typeof v !== "string") {
      throw new TypeError(`${n} must be a string, got ${describe(v)}`);
    }
  }
  const endpoint = runtime().getEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (!endpoint) return undefined;
  return await initTracer(instrumentingModuleName, endpoint, {
    "vllm.process_kind": processKind,
    "vllm.process_name": processName,
  });
}

/**
 * Builds the OTLP http/protobuf span exporter llmtrace uses (fetch transport,
 * the SDK's retries), for users who assemble their own provider.
 *
 * @param endpoint The traces URL; resolved from the environment when omitted.
 * @returns The exporter.
 * @throws {Error} for an unsupported protocol, a malformed endpoint, or an SDK
 * that cannot be loaded.
 *
 * @example
 * ```ts
 * import { getSpanExporter } from "@llmtrace/otel";
 *
 * const exporter = await getSpanExporter("http://127.0.0.1:4318/v1/traces");
 * await exporter.shutdown();
 * ```
 */
export async function getSpanExporter(
  endpoint?: string,
): Promise<SpanExporter> {
  const config = resolveExporterConfig(endpoint);
  let sdk: SdkModule;
  try {
    sdk = await loadSdk();
  } catch (e) {
    throw new Error(
      "OpenTelemetry is not available: the OTLP exporter could not be loaded. " +
        "Original error: " + (e instanceof Error ? e.message : String(e)),
      { cause: e },
    );
  }
  return runtime().withSafeProcessEnv(() =>
    new sdk.OTLPTraceExporter({
      url: config.url,
      headers: config.headers,
      timeoutMillis: config.timeoutMillis,
    })
  );
}

/**
 * Exports every finished span now. A no-op without a provider.
 *
 * @example
 * ```ts
 * import { forceFlush } from "@llmtrace/otel";
 *
 * await forceFlush();
 * ```
 */
export async function forceFlush(): Promise<void> {
  const s = state;
  if (!s) return;
  try {
    await s.provider.forceFlush();
  } catch (e) {
    warnExportFailure("forceFlush", s.endpoint, e);
  }
}

/**
 * Flushes and shuts down the provider and unregisters what `initTracer`
 * registered, so a later `initTracer` starts afresh. Idempotent, and safe
 * without `initTracer`.
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
  const s = state;
  if (!s) return;
  state = undefined;
  warnedSecondInit = false;
  s.removeExitHook();
  s.restoreEnv();
  try {
    await s.provider.shutdown();
  } catch (e) {
    warnExportFailure("shutdown", s.endpoint, e);
  } finally {
    const { context, diag, propagation, trace } = s.api;
    if (s.registered.trace) trace.disable();
    if (s.registered.propagation) propagation.disable();
    if (s.registered.context) context.disable();
    if (s.registered.diag) diag.disable();
  }
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

/**
 * The tracer llmtrace's own spans come from: the provider `initTracer` built,
 * else whatever the global API has (another SDK, Deno's built-in telemetry, or
 * the no-op). @internal
 */
export function _tracer(
  name?: string,
  version?: string,
): Tracer {
  if (name === undefined) {
    // llmtrace's own tracer, asked for on every request: kept, not looked up.
    const s = state;
    if (s) return s.tracer ??= s.provider.getTracer(SCOPE_NAME, SCOPE_VERSION);
    return _api()!.trace.getTracer(SCOPE_NAME, SCOPE_VERSION);
  }
  return state
    ? state.provider.getTracer(name, version)
    : _api()!.trace.getTracer(name, version);
}
const SCOPE_NAME = LLMTRACE_SCOPE.name;
const SCOPE_VERSION = LLMTRACE_SCOPE.version;

let noopProvider: unknown;

/**
 * Whether spans would be recorded anywhere: llmtrace's provider runs, or some
 * other provider (a user's SDK, Deno's built-in telemetry) is registered
 * globally. When false, wrappers skip all tracing work. Whenever this is
 * true, the API is loaded ({@link _api}). Seeing a provider registered by a
 * copy of the API this module has not loaded yet starts loading it; the
 * wrappers follow that provider as soon as the load is done. @internal
 */
export function _tracingActive(): boolean {
  if (state) return true;
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

/** The endpoint the running provider exports to, if any. @internal */
export function _currentEndpoint(): string | undefined {
  return state?.endpoint;
}

let warnedDisabled = false;
/**
 * Warns once per process that a request carried trace context while tracing
 * is off (vLLM's `log_tracing_disabled_warning`).
 *
 * @example
 * ```ts
 * import { containsTraceHeaders, logTracingDisabledWarning } from "@llmtrace/otel";
 *
 * const req = new Request("http://x/", { headers: { tracestate: "a=1" } });
 * if (containsTraceHeaders(req)) logTracingDisabledWarning();
 * ```
 */
export function logTracingDisabledWarning(): void {
  if (warnedDisabled) return;
  warnedDisabled = true;
  console.warn(
    "llmtrace: received a request with trace context but tracing is disabled",
  );
}
