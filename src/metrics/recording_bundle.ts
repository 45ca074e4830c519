/**
 * The configuration, the instruments and the measurement mapping, loaded by
 * `startMetrics` (dynamic import) before the SDK, and also when a runtime's
 * built-in OpenTelemetry records: an app with metrics off never loads them.
 *
 * @module
 */
export { resolveMetricsConfig } from "./config.ts";
export { createInstruments } from "./instruments.ts";
export { createRecorder } from "./recorder.ts";
