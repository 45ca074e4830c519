import { test } from "node:test";
import assert from "node:assert/strict";
import { webAdapter } from "../../src/runtime/web.ts";
import { runtime } from "../../src/runtime/detect.ts";

test("only workerd refuses timers outside a request (metrics then wait for waitUntil)", () => {
  assert.equal(webAdapter("workerd").backgroundTimers, false);
  assert.equal(webAdapter().backgroundTimers, true);
  // The runtime running this test (Deno or Bun) has background timers.
  assert.equal(runtime().backgroundTimers, true);
});
