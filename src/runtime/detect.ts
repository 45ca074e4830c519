/**
 * Chooses the runtime adapter once. This is the only place that looks at
 * runtime globals (`Deno`, `Bun`, `process`, `navigator.userAgent`).
 *
 * @module
 */
import type { RuntimeAdapter } from "./types.ts";
import { denoAdapter } from "./deno.ts";
import { bunAdapter } from "./bun.ts";
import { nodeAdapter } from "./node.ts";
import { webAdapter } from "./web.ts";
import { nativeApiRegistered } from "./shared.ts";

export type { RuntimeAdapter } from "./types.ts";

function detect(): RuntimeAdapter {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (g.Deno?.version?.deno) return denoAdapter(g.Deno);
  if (g.Bun?.version && g.process) return bunAdapter(g.Bun, g.process);
  if (g.process?.versions?.node && g.process.env) return nodeAdapter(g.process);
  const ua: string | undefined = g.navigator?.userAgent;
  if (ua === "Cloudflare-Workers") return webAdapter("workerd");
  return webAdapter();
}

let current: RuntimeAdapter | undefined;

/** The adapter for the runtime this code runs on. */
export function runtime(): RuntimeAdapter {
  return current ??= detect();
}

/**
 * The runtime whose built-in OpenTelemetry owns the global API, if any.
 * Deno's (`OTEL_DENO=true`) registers itself in the API's global slot with
 * version `1.999.999`; a future Bun native telemetry is expected to do the
 * same. The one place llmtrace decides this.
 */
export function nativeTelemetry(): string | undefined {
  return nativeApiRegistered() ? runtime().name : undefined;
}
