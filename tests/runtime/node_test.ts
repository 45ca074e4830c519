// The Node runtime adapter (src/runtime/node.ts): what it reads from the
// host objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeAdapter } from "../../src/runtime/node.ts";

test("the Node adapter's exit hook is removed again", () => {
  const listeners = new Set<() => void>();
  const rt = nodeAdapter({
    env: {},
    versions: { node: "20.0.0" },
    on: (_e, fn) => listeners.add(fn),
    off: (_e, fn) => listeners.delete(fn),
  });
  assert.equal(rt.version, "20.0.0");
  const remove = rt.onExit(() => {});
  assert.equal(listeners.size, 1);
  remove();
  assert.equal(listeners.size, 0);
});
