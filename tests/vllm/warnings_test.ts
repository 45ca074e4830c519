// logTracingDisabledWarning: once per process (in a fresh child).
import { test } from "node:test";
import assert from "node:assert/strict";
import { lastJson, runFixture } from "../support/helpers.ts";
import { useConfigEnv } from "../support/config_env.ts";

// The child inherits this file's environment, every config variable unset.
useConfigEnv(() => {});

test("logTracingDisabledWarning warns once per process", async () => {
  const result = await runFixture("warn_once.ts", undefined);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(lastJson(result), { calls: 3 });
  const lines = result.stderr.split("\n").filter((l) =>
    l.includes("received a request with trace context but tracing is disabled")
  );
  assert.equal(lines.length, 1, result.stderr);
});
