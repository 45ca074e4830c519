/**
 * Traces for the viewer's tests, made by the real OpenTelemetry SDK with
 * chosen times and GenAI attributes (the names llmtrace and vLLM emit), and
 * encoded by the official serializers: protobuf and OTLP/JSON.
 *
 * @module
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import {
  JsonTraceSerializer,
  ProtobufTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { SpanAttributes as A } from "../../src/core/attributes.ts";

/** One router → server → llm_request request, its timings in ms. */
export interface RequestPlan {
  model?: string;
  route?: string;
  /** The router's name for its SERVER span. Default `POST /v1/chat/completions`. */
  name?: string;
  /** Router TTFT (the first chunk at the router's SERVER span), ms. */
  ttftMs?: number;
  /** Engine TTFT (vLLM's), ms; default ttftMs − 2. */
  engineTtftMs?: number;
  durationMs?: number;
  outTokens?: number;
  /** "error": the router answered 500; "cancel": the client went away. */
  outcome?: "ok" | "error" | "cancel";
  /** Start, Unix ms. Default: now. */
  startMs?: number;
}

const exporter = new InMemorySpanExporter();
const providers = new Map<string, BasicTracerProvider>();
function provider(service: string): BasicTracerProvider {
  let p = providers.get(service);
  if (!p) {
    p = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": service }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    providers.set(service, p);
  }
  return p;
}

/**
 * The six spans of one routed request: client → router SERVER → router
 * CLIENT (chat) → engine SERVER → llm_request, plus an internal
 * tokenize span, the way llmtrace's demo records them.
 */
export function routedRequest(plan: RequestPlan = {}): ReadableSpan[] {
  exporter.reset();
  const model = plan.model ?? "m/7b";
  const t0 = plan.startMs ?? Date.now();
  const dur = plan.durationMs ?? 120;
  const ttft = plan.ttftMs ?? 40;
  const engineTtft = plan.engineTtftMs ?? ttft - 2;
  const out = plan.outTokens ?? 12;
  const outcome = plan.outcome ?? "ok";
  const router = provider("router").getTracer("llmtrace");
  const engine = provider("engine").getTracer("llmtrace");
  const client = router.startSpan("client", {
    kind: SpanKind.CLIENT,
    startTime: t0,
  }, ROOT_CONTEXT);
  const ctx = (s: ReturnType<typeof router.startSpan>) =>
    trace.setSpan(ROOT_CONTEXT, s);
  const server = router.startSpan(plan.name ?? "POST /v1/chat/completions", {
    kind: SpanKind.SERVER,
    startTime: t0 + 1,
    attributes: {
      "http.route": plan.route ?? "/v1/chat/completions",
      [A.GEN_AI_REQUEST_MODEL]: model,
      [A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]: ttft / 1000,
      [A.GEN_AI_USAGE_INPUT_TOKENS]: 13,
      [A.GEN_AI_USAGE_OUTPUT_TOKENS]: out,
      "http.response.status_code": outcome === "error" ? 500 : 200,
    },
  }, ctx(client));
  const chat = router.startSpan(`chat ${model}`, {
    kind: SpanKind.CLIENT,
    startTime: t0 + 2,
    attributes: { [A.GEN_AI_REQUEST_MODEL]: model },
  }, ctx(server));
  const eserver = engine.startSpan("POST /v1/chat/completions", {
    kind: SpanKind.SERVER,
    startTime: t0 + 3,
  }, ctx(chat));
  const tokenize = engine.startSpan("tokenize", {
    kind: SpanKind.INTERNAL,
    startTime: t0 + 3.5,
  }, ctx(eserver));
  tokenize.end(t0 + 4);
  const queue = 1;
  const llm = engine.startSpan("llm_request", {
    kind: SpanKind.SERVER,
    startTime: t0 + 4,
    attributes: {
      [A.GEN_AI_REQUEST_MODEL]: model,
      [A.GEN_AI_RESPONSE_MODEL]: model,
      [A.GEN_AI_LATENCY_TIME_TO_FIRST_TOKEN]: engineTtft / 1000,
      [A.GEN_AI_LATENCY_TIME_IN_QUEUE]: queue / 1000,
      [A.GEN_AI_LATENCY_TIME_IN_MODEL_PREFILL]: (engineTtft - queue) / 1000,
      [A.GEN_AI_LATENCY_TIME_IN_MODEL_DECODE]: (dur - 8 - engineTtft) / 1000,
      [A.GEN_AI_USAGE_PROMPT_TOKENS]: 13,
      [A.GEN_AI_USAGE_COMPLETION_TOKENS]: out,
    },
  }, ctx(eserver));
  llm.addEvent("first token", { index: 0 }, t0 + 4 + engineTtft);
  llm.end(t0 + dur - 4);
  eserver.end(t0 + dur - 3);
  chat.end(t0 + dur - 2);
  if (outcome === "error") {
    server.setAttribute("error.type", "500");
    server.setStatus({
      code: SpanStatusCode.ERROR,
      message: "upstream failed",
    });
  } else if (outcome === "cancel") {
    // As llmtrace records a client's cancel: no error status, no error.type.
    server.setAttribute("llmtrace.response.cancelled", true);
    server.setAttribute("gen_ai.response.finish_reasons", ["error"]);
  }
  server.end(t0 + dur - 1);
  client.end(t0 + dur);
  return exporter.getFinishedSpans().slice();
}

/** One span (a root), named as given: for hostile names. */
export function singleSpan(
  name: string,
  attrs: Record<string, string> = {},
): ReadableSpan[] {
  exporter.reset();
  const s = provider("hostile").getTracer("t").startSpan(name, {
    kind: SpanKind.SERVER,
    attributes: attrs,
  }, ROOT_CONTEXT);
  s.end();
  return exporter.getFinishedSpans().slice();
}

/** Spans as an OTLP/HTTP protobuf body (the official serializer). */
export function protoBody(spans: ReadableSpan[]): Uint8Array {
  return ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array(0);
}

/** Spans as an OTLP/JSON body (the official serializer). */
export function jsonBody(spans: ReadableSpan[]): Uint8Array {
  return JsonTraceSerializer.serializeRequest(spans) ?? new Uint8Array(0);
}

/** POSTs an OTLP body to a viewer's `/v1/traces`. */
export async function post(
  origin: string,
  body: Uint8Array | string,
  type = "application/x-protobuf",
  headers: Record<string, string> = {},
): Promise<Response> {
  return await fetch(`${origin}/v1/traces`, {
    method: "POST",
    headers: { "content-type": type, ...headers },
    body: body as BodyInit,
  });
}

/** The nearest-rank percentile, computed here independently of the viewer. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(rank, 1) - 1];
}
