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
import type { ExporterConfig } from "./config.ts";
import { createConsoleDiagLogger, diagLevel } from "./diag.ts";
import { createSpanExporter } from "./exporter.ts";
import { buildResource } from "./resource.ts";
import { refreshLimits } from "../core/limits.ts";
import { _webCryptoIdGenerator, _withRandomTraceIdFlag } from "./ids.ts";
import type { SdkModule } from "./load.ts";

/** The SDK's tracer provider. */
export type Provider = InstanceType<SdkModule["WebTracerProvider"]>;

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
    // Ids from crypto.getRandomValues (the SDK's own use Math.random), and
    // W3C level 2's random-trace-id flag on the spans: set on the traces
    // this provider starts, kept (set or unset) from a parent.
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
          new sdk.BatchSpanProcessor(createSpanExporter(sdk, plan.config)),
          ...plan.spanProcessors,
        ],
      }),
      idGenerator !== undefined,
    );
  });
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
      logLevel: diagLevel(api, runtime().getEnv("OTEL_LOG_LEVEL")),
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
