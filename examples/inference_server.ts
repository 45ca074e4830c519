/**
 * A small OpenAI-compatible inference server with a stand-in engine: a FIFO
 * queue with a fixed number of slots, a prefill delay, a per-token decode
 * delay and deterministic text. Each request records vLLM's `llm_request`
 * span with its real timings (`recordRequestSpan`), as a child of the
 * server span `traceHandler` creates.
 *
 * Run it: `deno run -A examples/inference_server.ts` or
 * `bun examples/inference_server.ts` (PORT, default 8001).
 *
 * @module
 */
import { recordRequestSpan, traceHandler } from "../mod.ts";
import {
  chatCompletionJson,
  chunkEvent,
  DONE_EVENT,
  SSE_HEADERS,
  type WireDeltaChoice,
  type WireUsage,
  wireUsage,
} from "../tests/support/openai_wire.ts";

/** Settings of the stand-in engine. */
export interface EngineOptions {
  /** Requests decoded at once; the rest wait in the queue. @default 2 */
  slots?: number;
  /** Milliseconds of prefill before the first token. @default 30 */
  prefillMs?: number;
  /** Milliseconds per generated token. @default 8 */
  decodeMsPerToken?: number;
  /** The model name the server answers as. @default "llmtrace/demo-7b" */
  model?: string;
}

const WORDS = [
  "Tracing",
  " shows",
  " where",
  " the",
  " time",
  " goes:",
  " queue,",
  " prefill,",
  " decode",
  " and",
  " the",
  " network",
  " between",
  " them.",
];

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Counts prompt tokens the way a whitespace tokenizer would (deterministic). */
function promptTokens(messages: unknown): number {
  if (!Array.isArray(messages)) return 1;
  let n = 0;
  for (const m of messages) {
    const c = (m as { content?: unknown })?.content;
    if (typeof c === "string") n += c.split(/\s+/).filter(Boolean).length + 4;
  }
  return Math.max(n, 1);
}

/**
 * Builds the server's fetch handler (already wrapped by `traceHandler`).
 *
 * @param opts Engine settings.
 * @returns A fetch-style handler for `Deno.serve` / `Bun.serve`.
 */
export function createInferenceServer(
  opts: EngineOptions = {},
): (req: Request) => Response | Promise<Response> {
  const slots = opts.slots ?? 2;
  const prefillMs = opts.prefillMs ?? 30;
  const decodeMs = opts.decodeMsPerToken ?? 8;
  const model = opts.model ?? "llmtrace/demo-7b";
  let busy = 0;
  const waiting: (() => void)[] = [];
  let seq = 0;

  async function acquire(): Promise<void> {
    if (busy < slots) {
      busy++;
      return;
    }
    await new Promise<void>((r) => waiting.push(r));
  }
  function release(): void {
    const next = waiting.shift();
    if (next) next();
    else busy--;
  }

  return traceHandler(async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (req.method !== "POST" || url.pathname !== "/v1/chat/completions") {
      return Response.json({ error: { message: "not found" } }, {
        status: 404,
      });
    }
    const arrival = Date.now();
    let body: Record<string, unknown>;
    try {
      body = await req.json();
    } catch {
      return Response.json({ error: { message: "invalid JSON" } }, {
        status: 400,
      });
    }
    const id = `chatcmpl-${++seq}`;
    const answer = { id, created: Math.floor(arrival / 1000), model };
    const maxTokens = typeof body.max_tokens === "number"
      ? Math.min(body.max_tokens, 64)
      : WORDS.length;
    const stream = body.stream === true;
    const includeUsage =
      (body.stream_options as { include_usage?: boolean } | undefined)
        ?.include_usage === true;
    const temperature = typeof body.temperature === "number"
      ? body.temperature
      : undefined;
    const prompt = promptTokens(body.messages);
    const timings: {
      arrival: number;
      queued: number;
      scheduled?: number;
      firstToken?: number;
      lastToken?: number;
      finished?: number;
    } = { arrival, queued: Date.now() };
    let generated = 0;
    const record = (
      extra: { aborted?: boolean; finish?: string; error?: unknown },
    ) =>
      recordRequestSpan({
        requestId: id,
        request: req,
        model: typeof body.model === "string" ? body.model : undefined,
        responseModel: model,
        temperature,
        maxTokens,
        n: 1,
        promptTokens: prompt,
        completionTokens: generated,
        finishReasons: extra.finish ? [extra.finish] : undefined,
        aborted: extra.aborted,
        error: extra.error,
        timings: { ...timings, finished: Date.now() },
      });

    // The engine: queue, prefill, then one token per decode step.
    async function* generate(signal: AbortSignal): AsyncGenerator<string> {
      await acquire();
      try {
        timings.scheduled = Date.now();
        await sleep(prefillMs, signal);
        for (let i = 0; i < maxTokens; i++) {
          if (i > 0) await sleep(decodeMs, signal);
          const now = Date.now();
          timings.firstToken ??= now;
          timings.lastToken = now;
          generated++;
          yield WORDS[i % WORDS.length];
        }
      } finally {
        release();
      }
    }

    const abort = new AbortController();
    if (!stream) {
      let text = "";
      try {
        for await (const t of generate(abort.signal)) text += t;
      } catch (e) {
        record({ aborted: true, error: e });
        throw e;
      }
      record({ finish: "length" });
      return Response.json(
        chatCompletionJson(
          answer,
          [text],
          "length",
          wireUsage(prompt, generated),
        ),
      );
    }

    const enc = new TextEncoder();
    const chunk = (
      delta: WireDeltaChoice["delta"] | null,
      finish: string | null,
      usage?: WireUsage,
    ) =>
      enc.encode(chunkEvent(
        answer,
        delta === null ? [] : [{ index: 0, delta, finish_reason: finish }],
        usage,
      ));
    const tokens = generate(abort.signal);
    let done = false;
    const body$ = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(chunk({ role: "assistant", content: "" }, null));
      },
      async pull(c) {
        try {
          const r = await tokens.next();
          if (!r.done) {
            c.enqueue(chunk({ content: r.value }, null));
            return;
          }
          c.enqueue(chunk({}, "length"));
          if (includeUsage) {
            c.enqueue(chunk(null, null, wireUsage(prompt, generated)));
          }
          c.enqueue(enc.encode(DONE_EVENT));
          c.close();
          done = true;
          record({ finish: "length" });
        } catch (e) {
          c.error(e);
          if (!done) record({ aborted: true });
          done = true;
        }
      },
      async cancel(reason) {
        // The client went away: stop generating, and say so on the span.
        abort.abort(reason);
        await tokens.return(undefined).catch(() => {});
        if (!done) record({ aborted: true });
        done = true;
      },
    }, { highWaterMark: 0 });
    return new Response(body$, { headers: SSE_HEADERS });
  }, { route: "/v1/chat/completions", providerName: "vllm" });
}

if (import.meta.main) {
  const { initTracer } = await import("../mod.ts");
  await initTracer("llmtrace.inference_server");
  const port = Number(
    (globalThis as { process?: { env: Record<string, string> } }).process?.env
      .PORT ?? 8001,
  );
  const handler = createInferenceServer();
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (g.Deno) g.Deno.serve({ hostname: "127.0.0.1", port }, handler);
  else g.Bun.serve({ hostname: "127.0.0.1", port, fetch: handler });
}
