/**
 * Renders received spans as an indented waterfall per trace, readable at 100
 * columns: span names, durations as bars on the trace's time axis, and the
 * LLM timings (TTFT, queue, prefill, decode, tokens).
 *
 * @module
 */
import type { ReceivedSpan } from "../tests/support/otlp_receiver.ts";

const KIND = ["", "internal", "server", "client", "producer", "consumer"];

/** Colours, or none when output is not a terminal. */
export interface Palette {
  dim(s: string): string;
  bar(s: string): string;
  err(s: string): string;
  bold(s: string): string;
}

/** A palette of ANSI colours (`on`) or plain text. */
export function palette(on: boolean): Palette {
  const wrap = (code: string) => (s: string) =>
    on ? `\x1b[${code}m${s}\x1b[0m` : s;
  return {
    dim: wrap("2"),
    bar: wrap("36"),
    err: wrap("31"),
    bold: wrap("1"),
  };
}

function ms(ns: bigint): number {
  return Number(ns) / 1e6;
}

function fmtSeconds(v: unknown): string | undefined {
  return typeof v === "number" ? `${(v * 1000).toFixed(1)}ms` : undefined;
}

function details(s: ReceivedSpan): string {
  const a = s.attributes;
  const parts: string[] = [];
  const add = (label: string, v: string | undefined) => {
    if (v !== undefined) parts.push(`${label} ${v}`);
  };
  add(
    "ttft",
    fmtSeconds(
      a["gen_ai.response.time_to_first_chunk"] ??
        a["gen_ai.latency.time_to_first_token"],
    ),
  );
  add("queue", fmtSeconds(a["gen_ai.latency.time_in_queue"]));
  add("prefill", fmtSeconds(a["gen_ai.latency.time_in_model_prefill"]));
  add("decode", fmtSeconds(a["gen_ai.latency.time_in_model_decode"]));
  const tin = a["gen_ai.usage.input_tokens"];
  const tout = a["gen_ai.usage.output_tokens"];
  if (tin !== undefined || tout !== undefined) {
    parts.push(`tok ${tin ?? "?"}→${tout ?? "?"}`);
  }
  const status = a["http.response.status_code"];
  if (status !== undefined) parts.push(`http ${status}`);
  const err = a["error.type"];
  if (err !== undefined) parts.push(`error ${err}`);
  if (a["llmtrace.response.cancelled"] === true) parts.push("cancelled");
  return parts.join(" · ");
}

/**
 * One waterfall per trace, traces in the order they started.
 *
 * @param spans The spans to draw.
 * @param p Colours.
 * @param width The line width.
 * @returns The text to print.
 */
export function renderWaterfall(
  spans: ReceivedSpan[],
  p: Palette = palette(false),
  width = 100,
): string {
  const byTrace = new Map<string, ReceivedSpan[]>();
  for (const s of spans) {
    const list = byTrace.get(s.traceId) ?? [];
    list.push(s);
    byTrace.set(s.traceId, list);
  }
  const traces = [...byTrace.values()].sort((a, b) =>
    Number(
      a.reduce(
        (m, s) => s.startTimeUnixNano < m ? s.startTimeUnixNano : m,
        a[0].startTimeUnixNano,
      ) -
        b.reduce(
          (m, s) => s.startTimeUnixNano < m ? s.startTimeUnixNano : m,
          b[0].startTimeUnixNano,
        ),
    )
  );
  const nameWidth = 46;
  const barWidth = 28;
  const out: string[] = [];
  for (const list of traces) {
    const t0 = list.reduce(
      (m, s) => s.startTimeUnixNano < m ? s.startTimeUnixNano : m,
      list[0].startTimeUnixNano,
    );
    const t1 = list.reduce(
      (m, s) => s.endTimeUnixNano > m ? s.endTimeUnixNano : m,
      list[0].endTimeUnixNano,
    );
    const total = Math.max(ms(t1 - t0), 0.001);
    out.push(
      p.bold(`trace ${list[0].traceId}`) +
        p.dim(`  ${list.length} spans, ${total.toFixed(1)} ms`),
    );
    const ids = new Set(list.map((s) => s.spanId));
    const children = new Map<string | undefined, ReceivedSpan[]>();
    for (const s of list) {
      const key = s.parentSpanId && ids.has(s.parentSpanId)
        ? s.parentSpanId
        : undefined;
      const c = children.get(key) ?? [];
      c.push(s);
      children.set(key, c);
    }
    const walk = (parent: string | undefined, depth: number) => {
      const kids = (children.get(parent) ?? []).sort((a, b) =>
        Number(a.startTimeUnixNano - b.startTimeUnixNano)
      );
      for (const s of kids) {
        const start = ms(s.startTimeUnixNano - t0);
        const dur = ms(s.endTimeUnixNano - s.startTimeUnixNano);
        const from = Math.min(
          barWidth - 1,
          Math.floor((start / total) * barWidth),
        );
        const len = Math.max(1, Math.round((dur / total) * barWidth));
        const bar = " ".repeat(from) +
          "█".repeat(Math.min(len, barWidth - from));
        let label = `${"  ".repeat(depth)}${s.name} ${
          p.dim(`(${KIND[s.kind] ?? s.kind})`)
        }`;
        const plainLen =
          `${"  ".repeat(depth)}${s.name} (${KIND[s.kind] ?? s.kind})`.length;
        if (plainLen > nameWidth) {
          label = `${"  ".repeat(depth)}${s.name}`.slice(0, nameWidth - 1) +
            "…";
        } else label += " ".repeat(nameWidth - plainLen);
        const line = `${label} ${p.bar(bar.padEnd(barWidth))} ${
          dur.toFixed(1).padStart(7)
        } ms`;
        const isErr = s.status.code === 2;
        out.push(isErr ? line + " " + p.err("✗") : line);
        const d = details(s);
        if (d) {
          const indent = " ".repeat(Math.min(nameWidth, depth * 2 + 2));
          out.push(p.dim(`${indent}${d}`.slice(0, width)));
        }
        walk(s.spanId, depth + 1);
      }
    };
    walk(undefined, 0);
    out.push("");
  }
  return out.join("\n");
}
