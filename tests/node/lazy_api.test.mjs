// The npm build under Node, tracing off: importing the package and serving
// through traceHandler loads no @opentelemetry/api module (Node lists every
// CommonJS module it loaded in require.cache, imported ones too);
// loadOtelApi() then does load it, so the check can fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { requireBuild } from "./support.mjs";

requireBuild();
const cache = createRequire(import.meta.url).cache;
const apiModules = () =>
  Object.keys(cache).filter((k) => k.includes("@opentelemetry/api"));

test("tracing off: no @opentelemetry/api module is loaded until asked for", async () => {
  const { loadOtelApi, traceHandler, tracedFetch } = await import("llmtrace");
  const res = new Response("ok");
  assert.equal(traceHandler(() => res)(new Request("http://127.0.0.1/")), res);
  const got = await tracedFetch("http://127.0.0.1:1/", undefined, {
    fetch: () => Promise.resolve(new Response("up")),
  });
  assert.equal(await got.text(), "up");
  assert.deepEqual(apiModules(), []);

  const api = await loadOtelApi();
  assert.equal(typeof api.trace.getTracer, "function");
  assert.ok(apiModules().length > 0, "loadOtelApi loaded the API");
});
