// Cold start: MODE=bare (no llmtrace) | disabled (import mod.ts, traceHandler,
// no initTracer) | enabled (import mod.ts, initTracer to SINK, traceHandler).
// Prints "TIMES {importMs, initMs}" then "LISTEN <port>".
import { env, type Handler, listen } from "../servers/common.ts";

const mode = env("MODE") ?? "bare";
let handler: Handler = () => new Response("ok");
let importMs = 0, initMs = 0;
if (mode !== "bare") {
  const t0 = performance.now();
  const m = await import(env("LLMTRACE_MOD") ?? "../../mod.ts");
  const t1 = performance.now();
  importMs = t1 - t0;
  if (mode === "enabled") {
    await m.initTracer("bench.cold", env("SINK"), undefined, {
      flushOnExit: false,
    });
    initMs = performance.now() - t1;
  }
  handler = m.traceHandler(handler);
}
console.log(`TIMES ${JSON.stringify({ importMs, initMs })}`);
listen(handler);
