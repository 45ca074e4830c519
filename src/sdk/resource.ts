/**
 * The one resource of this process, for every signal: `service.name` (the
 * module name unless `OTEL_SERVICE_NAME` says otherwise), one
 * `service.instance.id` per process, the process and runtime, vLLM's
 * `vllm.instrumenting_module_name`/`vllm.process_id`, then
 * `OTEL_RESOURCE_ATTRIBUTES`, then the caller's attributes.
 *
 * @module
 */
import type { Attributes } from "../core/types.ts";
import {
  PROCESS_PID,
  PROCESS_RUNTIME_NAME,
  PROCESS_RUNTIME_VERSION,
  SERVICE_INSTANCE_ID,
  SERVICE_NAME,
  VLLM_INSTRUMENTING_MODULE_NAME,
  VLLM_PROCESS_ID,
} from "../core/keys.ts";
import { runtime } from "../runtime/detect.ts";

/** The resource functions of `@opentelemetry/resources` both SDK bundles carry. */
export interface ResourceFunctions {
  defaultResource: typeof import("./bundle_resources.ts").defaultResource;
  detectResources: typeof import("./bundle_resources.ts").detectResources;
  envDetector: typeof import("./bundle_resources.ts").envDetector;
  resourceFromAttributes:
    typeof import("./bundle_resources.ts").resourceFromAttributes;
}

/** The SDK's resource type. */
export type Resource = ReturnType<ResourceFunctions["defaultResource"]>;

// One writer per cumulative metric stream, and one id the traces share.
let instanceId: string | undefined;

/**
 * Builds the resource. Reads `OTEL_*` through the SDK's env detector, with
 * Deno's permission guard around it.
 *
 * @param sdk The resource functions (from a lazily loaded SDK bundle).
 * @param moduleName The instrumenting module (`service.name` default).
 * @param extra The caller's resource attributes; they win.
 */
export function buildResource(
  sdk: ResourceFunctions,
  moduleName: string,
  extra: Attributes = {},
): Resource {
  const rt = runtime();
  const base: Attributes = {
    [SERVICE_NAME]: moduleName,
    [SERVICE_INSTANCE_ID]: instanceId ??= crypto.randomUUID(),
    [VLLM_INSTRUMENTING_MODULE_NAME]: moduleName,
    [PROCESS_RUNTIME_NAME]: rt.name,
  };
  if (rt.version) base[PROCESS_RUNTIME_VERSION] = rt.version;
  const pid = rt.pid();
  if (pid !== undefined) {
    base[PROCESS_PID] = pid;
    base[VLLM_PROCESS_ID] = String(pid);
  }
  return rt.withSafeProcessEnv(() =>
    sdk.defaultResource()
      .merge(sdk.resourceFromAttributes(base))
      .merge(sdk.detectResources({ detectors: [sdk.envDetector] }))
      .merge(sdk.resourceFromAttributes(extra))
  );
}
