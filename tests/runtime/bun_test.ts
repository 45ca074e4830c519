// The Bun runtime adapter (src/runtime/bun.ts): what it reads from the host
// objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bunAdapter } from "../../src/runtime/bun.ts";

/** A process-like object whose other properties are lazy getters, as Bun's are. */
function lazyProcess(touched: string[]) {
  const proc: Record<string, unknown> = {
    pid: 4242,
    env: { A: "1" },
    on() {},
    off() {},
  };
  for (const name of ["stdin", "stdout", "stderr", "report", "binding"]) {
    Object.defineProperty(proc, name, {
      enumerable: true,
      get() {
        touched.push(name);
        return {};
      },
    });
  }
  return proc;
}

test("the Bun adapter reads only what it uses from process (no lazy getters run)", () => {
  const touched: string[] = [];
  const proc = lazyProcess(touched);
  const env: Record<string, string | undefined> = { FROM_BUN_ENV: "yes" };
  const rt = bunAdapter(
    { version: "1.4.5", env },
    proc as unknown as Parameters<typeof bunAdapter>[1],
  );
  assert.deepEqual(touched, []);
  assert.equal(rt.name, "bun");
  assert.equal(rt.version, "1.4.5");
  assert.equal(rt.pid(), 4242);
  assert.equal(rt.getEnv("FROM_BUN_ENV"), "yes");
  assert.equal(rt.setEnv("X", "2"), true);
  assert.equal(env.X, "2");
  assert.deepEqual(touched, []);
});
