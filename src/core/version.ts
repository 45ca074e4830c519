/**
 * The package version, used as the instrumentation scope's version. Written
 * by `npm version` (scripts/version.mjs copies package.json's version here
 * and into deno.json); `tests/check_manifests.mjs` fails when they differ.
 *
 * @module
 */

/** llmtrace's version. */
export const VERSION = "0.1.0";
