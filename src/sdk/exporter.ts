/**
 * The one OTLP span exporter factory: http/protobuf, sent with `fetch`, the
 * official transport's retries and bounded concurrency, llmtrace's span
 * writer, batches sent as slices of at most 128 spans.
 *
 * @module
 */
import type { SpanExporter } from "../core/types.ts";
import { runtime } from "../runtime/detect.ts";
import { type ExporterConfig, resolveOtlpConfig } from "./exporter_config.ts";
import { requireSdk, type SdkModule } from "./load.ts";

/** Builds the OTLP exporter for a resolved configuration. @internal */
export function createSpanExporter(
  sdk: SdkModule,
  config: ExporterConfig,
): SpanExporter {
  // The SDK reads `process.env` while it is built, which Deno guards.
  return sdk.slicedExporter(
    runtime().withSafeProcessEnv(() =>
      sdk.createTraceExporter({
        url: config.url,
        headers: config.headers,
        timeoutMillis: config.timeoutMillis,
      })
    ),
  );
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
  const config = resolveOtlpConfig("traces", endpoint);
  const sdk = await requireSdk("the OTLP exporter could not be built");
  // `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL=console` prints, as initTracer does.
  return config.console
    ? new sdk.ConsoleSpanExporter()
    : createSpanExporter(sdk, config);
}
