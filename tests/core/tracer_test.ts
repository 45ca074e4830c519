// The instrumentation scope of llmtrace's own spans.
import { readFileSync } from "node:fs";
import { test } from "node:test";
import assert from "node:assert/strict";
import { LLMTRACE_SCOPE } from "../../src/core/tracer.ts";

test("LLMTRACE_SCOPE names the package with package.json's version", () => {
  const pkg = JSON.parse(
    readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
  );
  assert.deepEqual(LLMTRACE_SCOPE, { name: "llmtrace", version: pkg.version });
});
