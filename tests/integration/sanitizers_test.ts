// Deno's test sanitizers do not run for node:test tests, so this runs a
// Deno.test file (tests/fixtures/sanitizers/) with the pinned deno binary,
// sanitizers on: no timer, op or resource of llmtrace may outlive
// shutdownTracing(). Spawning the binary lets both test runners run it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("deno test's op, resource and timer sanitizers pass after shutdownTracing()", async () => {
  const { code, out } = await new Promise<{ code: number | null; out: string }>(
    (resolve, reject) => {
      const child = spawn(
        `${root}node_modules/.bin/deno`,
        ["test", "-A", "tests/fixtures/sanitizers/deno_sanitizers.ts"],
        {
          cwd: root,
          env: { ...process.env, NO_COLOR: "1" },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    },
  );
  assert.equal(code, 0, out);
  assert.match(out, /ok \| 1 passed \| 0 failed/);
});
