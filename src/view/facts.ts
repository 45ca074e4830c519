/**
 * What a trace viewer reads off spans: each span's GenAI timings and outcome,
 * a trace's tree order, and the facts of a trace's list row. Attribute names
 * are the ones llmtrace and vLLM emit (src/core/attributes.ts, keys.ts).
 *
 * @module
 */
import { SpanAttributes as A } from "../core/attributes.ts";
import {
  ERROR_TYPE,
  HTTP_ROUTE,
  LLMTRACE_RESPONSE_CANCELLED,
  SERVICE_NAME,
  URL_PATH,
} from "../core/keys.ts";
import type { AttrValue, ViewSpan } from "./model.ts";

/** ok, error (status error or `error.type`), or cancel (cancelled/aborted). */
export type Outcome = "ok" | "error" | "cancel";

/** A span's GenAI facts, times in milliseconds from the span's start. */
export interface SpanFacts {
  /** Time to first token: the streamed first chunk, or vLLM's engine TTFT. */
  ttftMs?: number;
  /** Which attribute gave {@link ttftMs}. */
  ttftKey?: string;
  /** vLLM's engine TTFT (`gen_ai.latency.time_to_first_token`), when set. */
  engineTtftMs?: number;
  queueMs?: number;
  prefillMs?: number;
  decodeMs?: number;
  model?: string;
  inTokens?: number;
  outTokens?: number;
  outcome: Outcome;
}

const CANCEL_TYPES = new Set(["cancelled", "aborted"]);

function num(v: AttrValue | undefined): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

function seconds(v: AttrValue | undefined): number | undefined {
  const s = num(v);
  return s !== undefined && s >= 0 ? s * 1000 : undefined;
}

function text(v: AttrValue | undefined): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * A span's outcome: cancel wins over error; `error.type` alone is an error.
 * llmtrace marks a client's cancel with `llmtrace.response.cancelled` and no
 * error status (a cancel is not a server error); releases before that, and
 * other instrumentations, said `error.type = "cancelled"`.
 */
export function outcomeOf(s: ViewSpan): Outcome {
  const a = s.attributes;
  const type = a[ERROR_TYPE];
  const finish = a[A.GEN_AI_RESPONSE_FINISH_REASONS];
  if (
    a[LLMTRACE_RESPONSE_CANCELLED] === true ||
    (typeof type === "string" && CANCEL_TYPES.has(type)) ||
    (Array.isArray(finish) && finish.includes("abort"))
  ) return "cancel";
  if (s.status.code === 2 || type !== undefined) return "error";
  return "ok";
}

/** The GenAI facts of one span. */
export function spanFacts(s: ViewSpan): SpanFacts {
  const a = s.attributes;
  const f: SpanFacts = { outcome: outcomeOf(s) };
  for (
    const key of [
      A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
      A.GEN_AI_LATENCY_TIME_TO_FIRST_TOKEN,
    ]
  ) {
    const ms = seconds(a[key]);
    if (ms !== undefined) {
      f.ttftMs = ms;
      f.ttftKey = key;
      break;
    }
  }
  f.engineTtftMs = seconds(a[A.GEN_AI_LATENCY_TIME_TO_FIRST_TOKEN]);
  f.queueMs = seconds(a[A.GEN_AI_LATENCY_TIME_IN_QUEUE]);
  f.prefillMs = seconds(a[A.GEN_AI_LATENCY_TIME_IN_MODEL_PREFILL]);
  f.decodeMs = seconds(a[A.GEN_AI_LATENCY_TIME_IN_MODEL_DECODE]);
  f.model = text(a[A.GEN_AI_RESPONSE_MODEL]) ?? text(a[A.GEN_AI_REQUEST_MODEL]);
  f.inTokens = num(a[A.GEN_AI_USAGE_INPUT_TOKENS]) ??
    num(a[A.GEN_AI_USAGE_PROMPT_TOKENS]);
  f.outTokens = num(a[A.GEN_AI_USAGE_OUTPUT_TOKENS]) ??
    num(a[A.GEN_AI_USAGE_COMPLETION_TOKENS]);
  return f;
}

/** A span in tree order: its depth and facts. */
export interface Placed {
  span: ViewSpan;
  depth: number;
  facts: SpanFacts;
}

/**
 * The spans depth-first from the roots (a span whose parent is not in the
 * trace is a root), siblings by start time. Spans on a parent cycle, which
 * no root reaches, follow as roots of their own.
 */
export function treeOrder(spans: readonly ViewSpan[]): Placed[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, ViewSpan[]>();
  const roots: ViewSpan[] = [];
  for (const s of spans) {
    if (s.parentSpanId !== undefined && ids.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId);
      if (list) list.push(s);
      else children.set(s.parentSpanId, [s]);
    } else roots.push(s);
  }
  const byStart = (a: ViewSpan, b: ViewSpan) =>
    a.startTimeUnixNano < b.startTimeUnixNano
      ? -1
      : a.startTimeUnixNano > b.startTimeUnixNano
      ? 1
      : 0;
  const out: Placed[] = [];
  const seen = new Set<ViewSpan>();
  const visit = (first: ViewSpan) => {
    // An explicit stack: a hostile chain of parents must not overflow ours.
    const stack: [ViewSpan, number][] = [[first, 0]];
    while (stack.length) {
      const [s, depth] = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      out.push({ span: s, depth, facts: spanFacts(s) });
      const kids = children.get(s.spanId);
      if (!kids) continue;
      kids.sort(byStart);
      for (let i = kids.length - 1; i >= 0; i--) {
        stack.push([kids[i], depth + 1]);
      }
    }
  };
  for (const r of roots.sort(byStart)) visit(r);
  for (const s of [...spans].sort(byStart)) if (!seen.has(s)) visit(s);
  return out;
}

/** One trace's row in the list. Times in ms; `start` is Unix ms. */
export interface TraceRow {
  traceId: string;
  /** Arrival order of the trace in the store (eviction is oldest first). */
  seq: number;
  /** The store version at this trace's last change. */
  updated: number;
  start: number;
  durationMs: number;
  name: string;
  service?: string;
  model?: string;
  route?: string;
  ttftMs?: number;
  /** Time per output token after the first, of the span that gave TTFT. */
  tpotMs?: number;
  inTokens?: number;
  outTokens?: number;
  spans: number;
  /** What the caller saw: the root's and the first server span's outcome. */
  outcome: Outcome;
  /** Spans that failed inside the trace (a retried upstream, say). */
  errorSpans: number;
  /** More than one root, or a root whose parent never arrived. */
  partial: boolean;
}

/** The list row of a trace from its spans (already in tree order). */
export function traceRow(
  traceId: string,
  placed: readonly Placed[],
  seq: number,
  updated: number,
): TraceRow {
  const root = placed[0];
  const rs = root.span;
  // Breadth-first: the fact nearest the root is what the caller saw.
  const byDepth = [...placed].sort((a, b) => a.depth - b.depth);
  const first = <T>(get: (p: Placed) => T | undefined) => {
    for (const p of byDepth) {
      const v = get(p);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const ttftSpan = first((p) => p.facts.ttftMs !== undefined ? p : undefined);
  let tpotMs: number | undefined;
  if (ttftSpan) {
    const f = ttftSpan.facts;
    const out = f.outTokens ?? first((p) => p.facts.outTokens);
    const dur = Number(
      ttftSpan.span.endTimeUnixNano - ttftSpan.span.startTimeUnixNano,
    ) / 1e6;
    const decode = f.decodeMs ?? dur - f.ttftMs!;
    if (out !== undefined && out > 1 && decode >= 0) {
      tpotMs = decode / (out - 1);
    }
  }
  // What the caller saw: the root's outcome, and the outcome of the first
  // server span under it (a client's root span may not record the answer).
  const entry = first((p) => p.span.kind === 2 ? p : undefined);
  const seen = [root.facts.outcome, entry?.facts.outcome];
  const outcome: Outcome = seen.includes("cancel")
    ? "cancel"
    : seen.includes("error")
    ? "error"
    : "ok";
  let errorSpans = 0;
  let roots = 0;
  for (const p of placed) {
    if (p.facts.outcome === "error") errorSpans++;
    if (p.depth === 0) roots++;
  }
  return {
    traceId,
    seq,
    updated,
    start: Number(rs.startTimeUnixNano / 1000n) / 1000,
    durationMs: Number(rs.endTimeUnixNano - rs.startTimeUnixNano) / 1e6,
    name: rs.name,
    service: text(rs.resource[SERVICE_NAME]),
    model: first((p) => p.facts.model),
    route: first((p) =>
      text(p.span.attributes[HTTP_ROUTE]) ?? text(p.span.attributes[URL_PATH])
    ),
    ttftMs: ttftSpan?.facts.ttftMs,
    tpotMs,
    inTokens: first((p) => p.facts.inTokens),
    outTokens: first((p) => p.facts.outTokens),
    spans: placed.length,
    outcome,
    errorSpans,
    partial: roots > 1 || rs.parentSpanId !== undefined,
  };
}
