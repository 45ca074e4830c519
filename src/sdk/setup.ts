/**
 * Builds what `initTracer` registers: the resource, the provider with its
 * batch processor and exporter, and the global registrations (tracer
 * provider, propagator, diag logger, context manager) with a way to undo
 * exactly those.
 *
 * @module
 */
import type {
  Attributes,
  ContextManager,
  DiagLogger,
  SpanProcessor,
} from "../core/types.ts";
import type { OtelApi } from "../core/api.ts";
import { runtime } from "../runtime/detect.ts";
import {
  batchEnv,
  logLevelEnv,
  spanProcessorEnv,
  type SpanProcessorKind,
} from "../core/env_config.ts";
import type { ExporterConfig } from "./exporter_config.ts";
import { createConsoleDiagLogger, diagLevel } from "./diag.ts";
import { createSpanExporter } from "./exporter.ts";
import { buildResource } from "./resource.ts";
import { refreshLimits } from "../core/limits.ts";
import { _webCryptoIdGenerator, _withRandomTraceIdFlag } from "./ids.ts";
import type { SdkModule } from "./load.ts";
import { EXPORT_SLICE_SPANS } from "../otlp/sliced_exporter.ts";
import { createEncodingProcessor } from "../otlp/encoding_processor.ts";
import { encodingSettings } from "./encoding_settings.ts";

/** The SDK's tracer provider. */
export type Provider = InstanceType<SdkModule["WebTracerProvider"]>;

/**
 * The span processor `initTracer`'s provider exports through unless
 * `LLMTRACE_SPAN_PROCESSOR` says otherwise: `sdk` (the SDK's
 * `BatchSpanProcessor`) or `encode` (llmtrace's encode-on-end processor,
 * `otlp/encoding_processor.ts`). `sdk` stays the default because encoding
 * at span end measured no GC gain in steady state on either runtime (the
 * SDK's span objects are most of what tracing allocates, and they are made
 * either way); `encode` holds a full queue as bytes outside the JS heap
 * (collector down: 2-4 MB less heap, 80k fewer objects in Bun) and has a
 * byte cap. See `bench/RESULTS.md`, "Encode-on-end processor (issue 23)".
 */
const DEFAULT_PROCESSOR: SpanProcessorKind = "sdk";

/** What the provider is built from. */
export interface ProviderPlan {
  moduleName: string;
  extraAttributes: Attributes;
  config: ExporterConfig;
  spanProcessors: readonly SpanProcessor[];
}

/**
 * The resource (`service.name`, the module name, pid, runtime, then
 * `OTEL_RESOURCE_ATTRIBUTES`/`OTEL_SERVICE_NAME`, then `extraAttributes`),
 * and a provider exporting through one batch processor. Trace and span ids
 * come from `crypto.getRandomValues`, and spans carry W3C Trace Context
 * level 2's random-trace-id flag (`0x02`): set on the traces this provider
 * starts, kept as the parent has it otherwise.
 */
export function buildProvider(
  api: OtelApi,
  sdk: SdkModule,
  plan: ProviderPlan,
): Provider {
  const resource = buildResource(sdk, plan.moduleName, plan.extraAttributes);
  return runtime().withSafeProcessEnv(() => {
    const idGenerator = _webCryptoIdGenerator();
    return _withRandomTraceIdFlag(
      api,
      new sdk.WebTracerProvider({
        resource,
        // The bound llmtrace applies to its own attributes, for every
        // attribute on this provider's spans.
        spanLimits: { attributeValueLengthLimit: refreshLimits() },
        ...(idGenerator ? { idGenerator } : {}),
        spanProcessors: [
          ...exportProcessors(sdk, plan.config),
          ...plan.spanProcessors,
        ],
      }),
      idGenerator !== undefined,
    );
  });
}

/**
 * The processors that export `config`'s way: OTLP (through the processor
 * `LLMTRACE_SPAN_PROCESSOR` picks), the SDK's `ConsoleSpanExporter`
 * (`OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL=console`, `OTEL_TRACES_EXPORTER=console`),
 * both, or none (`OTEL_TRACES_EXPORTER=none`).
 */
function exportProcessors(
  sdk: SdkModule,
  config: ExporterConfig,
): SpanProcessor[] {
  const out: SpanProcessor[] = [];
  if (config.otlp) {
    out.push(
      (spanProcessorEnv() ?? DEFAULT_PROCESSOR) === "encode"
        ? createEncodingProcessor(config, encodingSettings())
        : new sdk.BatchSpanProcessor(
          createSpanExporter(sdk, config),
          batchDefaults(),
        ),
    );
  }
  if (config.console) {
    out.push(
      new sdk.BatchSpanProcessor(
        new sdk.ConsoleSpanExporter(),
        batchDefaults(),
      ),
    );
  }
  return out;
}

/**
 * The batch processor's settings where `OTEL_BSP_*` leaves them open: export
 * batches of {@link EXPORT_SLICE_SPANS} spans instead of the SDK's 512.
 * Measured on the project bench (trivial handler, one core): p99 latency
 * 16–20 ms with 512-span batches (even sliced), 5–5.5 ms with 128, and more
 * requests per second (likely because spans leave sooner instead of
 * piling up in the queue while a large batch is sent). The processor sends one batch
 * at a time, so a collector 50 ms away caps the rate at ~2,500 spans/s;
 * `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` (which the SDK reads) raises it, and
 * batches over 128 are then sent in slices.
 */
function batchDefaults(): { maxExportBatchSize: number } | undefined {
  const { exportBatchSizeSet, maxQueueSize } = batchEnv();
  if (exportBatchSizeSet || !(maxQueueSize >= EXPORT_SLICE_SPANS)) {
    return undefined;
  }
  return { maxExportBatchSize: EXPORT_SLICE_SPANS };
}

/** Which globals to register. */
export interface GlobalsPlan {
  /** `null`: none; `undefined`: the web SDK's StackContextManager. */
  contextManager?: ContextManager | null;
  /** `null`: leave the diag logger alone; `undefined`: the console. */
  diagLogger?: DiagLogger | null;
}

/**
 * Registers the provider, the W3C trace-context + baggage propagator, the
 * diag logger and a context manager where none is registered yet.
 *
 * @returns Whether the provider became global, and a function that
 * unregisters exactly what was registered here.
 */
export function registerGlobals(
  api: OtelApi,
  sdk: SdkModule,
  provider: Provider,
  plan: GlobalsPlan,
): { providerIsGlobal: boolean; unregister: () => void } {
  const { context, diag, propagation, trace } = api;
  const traceSet = trace.setGlobalTracerProvider(provider);
  const propagationSet = propagation.setGlobalPropagator(
    new sdk.CompositePropagator({
      propagators: [
        new sdk.W3CTraceContextPropagator(),
        new sdk.W3CBaggagePropagator(),
      ],
    }),
  );
  let diagSet = false;
  // Ours holds back repeats (one line per 10 s); at the end it says what it
  // held back since its last line.
  const ours = plan.diagLogger === undefined
    ? createConsoleDiagLogger()
    : undefined;
  if (plan.diagLogger !== null) {
    diagSet = diag.setLogger(plan.diagLogger ?? ours!, {
      logLevel: diagLevel(api, logLevelEnv()),
      suppressOverrideMessage: true,
    });
  }
  let contextSet = false;
  if (plan.contextManager !== null) {
    const cm = plan.contextManager ?? new sdk.StackContextManager();
    cm.enable();
    contextSet = context.setGlobalContextManager(cm);
    if (!contextSet) cm.disable();
  }
  return {
    providerIsGlobal: traceSet,
    unregister() {
      if (traceSet) trace.disable();
      if (propagationSet) propagation.disable();
      if (contextSet) context.disable();
      if (diagSet) diag.disable();
      const left = ours?.summary();
      if (left) console.warn("llmtrace (otel):", left);
    },
  };
}
