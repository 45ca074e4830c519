/**
 * The setup of the tests of configuration from the environment
 * (core/env_config, sdk/exporter_config, sdk/init_options, sdk/load,
 * core/attributes' semconv mode, vllm/warnings):
 * every config variable unset for the file, a real OTLP receiver, and no
 * provider left running or SDK loader replaced afterwards.
 *
 * @module
 */
import { after, before } from "node:test";
import { shutdownTracing } from "../../src/sdk/tracer_provider.ts";
import { _setSdkLoader } from "../../src/sdk/load.ts";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp_receiver.ts";
import { setEnv } from "./helpers.ts";

/** The variables {@link clean} unsets. */
export const CONFIG_VARS: readonly string[] = [
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_TRACES_EXPORTER",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  "OTEL_EXPORTER_OTLP_TIMEOUT",
  "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
  "OTEL_SDK_DISABLED",
  "OTEL_SEMCONV_STABILITY_OPT_IN",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
];

/** Every config variable unset, except the given ones. */
export const clean = (
  vars: Record<string, string | undefined> = {},
): Record<string, string | undefined> => ({
  ...Object.fromEntries(CONFIG_VARS.map((k) => [k, undefined])),
  ...vars,
});

/**
 * Registers `before`/`after` hooks: start a receiver and unset every config
 * variable, hand the receiver to `ready`; afterwards restore the SDK loader,
 * shut down any provider, restore the environment and close the receiver.
 */
export function useConfigEnv(ready: (rx: OtlpReceiver) => void): void {
  let rx: OtlpReceiver | undefined;
  let restoreEnv = () => {};
  before(async () => {
    rx = await startOtlpReceiver();
    restoreEnv = setEnv(clean());
    ready(rx);
  });
  after(async () => {
    try {
      _setSdkLoader(undefined);
      await shutdownTracing();
    } finally {
      restoreEnv();
      await rx?.close();
    }
  });
}
