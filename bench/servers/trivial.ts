// The trivial handler, `new Response("ok")`, served by Deno.serve or Bun.serve.
// MODE=untraced | disabled (traceHandler, no initTracer) | traced (initTracer to
// SINK + traceHandler). Deno's built-in tracing is MODE=untraced + OTEL_DENO=true.
import { env, type Handler, listen } from "./common.ts";

const mode = env("MODE") ?? "untraced";
let handler: Handler = () => new Response("ok");
if (mode === "disabled" || mode === "traced") {
  const m = await import(env("LLMTRACE_MOD") ?? "../../mod.ts");
  if (mode === "traced") {
    await m.initTracer("bench.trivial", env("SINK"), undefined, {
      flushOnExit: false,
    });
  }
  handler = m.traceHandler(handler);
} else if (mode !== "untraced") throw new Error(`unknown MODE ${mode}`);
listen(handler);
