/**
 * The viewer's memory: the last N traces (oldest dropped first), each with at
 * most a fixed number of spans, within a byte budget. Nothing goes to disk.
 * A version number that grows with every change lets the page ask only for
 * what changed since it last looked.
 *
 * @module
 */
import { type Placed, type TraceRow, traceRow, treeOrder } from "./facts.ts";
import type { AttrValue, ViewSpan } from "./model.ts";

/** Limits of a {@link TraceStore}. */
export interface StoreLimits {
  /** Traces kept; the oldest is dropped first. Default 1,000. */
  maxTraces?: number;
  /** Spans kept per trace; later ones are counted, not kept. Default 2,000. */
  maxSpansPerTrace?: number;
  /** Approximate bytes of span data kept. Default 256 MiB. */
  maxBytes?: number;
}

interface Entry {
  traceId: string;
  seq: number;
  updated: number;
  spans: Map<string, ViewSpan>;
  bytes: number;
  dropped: number;
  placed?: Placed[];
  row?: TraceRow;
}

/** What changed since a version (see {@link TraceStore.changes}). */
export interface Changes {
  /** Identifies this store: a page seeing another one starts over. */
  epoch: string;
  version: number;
  /** Rows of traces kept with seq below this were dropped. */
  minSeq: number;
  traces: number;
  rows: TraceRow[];
}

// Strings dominate; numbers and the object overhead are a rough constant.
function sizeOf(v: AttrValue): number {
  if (typeof v === "string") return 16 + v.length * 2;
  if (v instanceof Uint8Array) return 16 + v.length;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + sizeOf(x), 16);
  if (v !== null && typeof v === "object") {
    let n = 16;
    for (const k in v) n += 16 + k.length * 2 + sizeOf(v[k]);
    return n;
  }
  return 16;
}

function spanSize(s: ViewSpan): number {
  let n = 200 + s.name.length * 2 + s.traceState.length * 2 +
    s.status.message.length * 2;
  for (const k in s.attributes) {
    n += 16 + k.length * 2 + sizeOf(s.attributes[k]);
  }
  for (const e of s.events) {
    n += 64 + e.name.length * 2 + sizeOf(e.attributes as AttrValue);
  }
  for (const l of s.links) n += 160 + sizeOf(l.attributes as AttrValue);
  // The resource and scope are shared by the spans of one request.
  return n;
}

/** Traces by id, in arrival order, bounded. */
export class TraceStore {
  readonly maxTraces: number;
  readonly maxSpansPerTrace: number;
  readonly maxBytes: number;
  readonly epoch: string = crypto.randomUUID();
  #traces = new Map<string, Entry>();
  #version = 0;
  #seq = 0;
  #bytes = 0;
  #spans = 0;
  #droppedTraces = 0;

  constructor(limits: StoreLimits = {}) {
    this.maxTraces = positive(limits.maxTraces, 1000, "maxTraces");
    this.maxSpansPerTrace = positive(
      limits.maxSpansPerTrace,
      2000,
      "maxSpansPerTrace",
    );
    this.maxBytes = positive(limits.maxBytes, 256 * 2 ** 20, "maxBytes");
  }

  /** Grows with every change. */
  get version(): number {
    return this.#version;
  }
  /** Traces kept. */
  get size(): number {
    return this.#traces.size;
  }
  /** Spans kept. */
  get spanCount(): number {
    return this.#spans;
  }
  /** Traces dropped to stay within the limits, since the start. */
  get droppedTraces(): number {
    return this.#droppedTraces;
  }

  /**
   * Adds spans (of any traces). A span already kept (same trace and span id,
   * an exporter's retry) is replaced. Returns how many spans were kept.
   */
  add(spans: readonly ViewSpan[]): number {
    if (spans.length === 0) return 0;
    const version = ++this.#version;
    let kept = 0;
    for (const s of spans) {
      let e = this.#traces.get(s.traceId);
      if (!e) {
        e = {
          traceId: s.traceId,
          seq: this.#seq++,
          updated: version,
          spans: new Map(),
          bytes: 0,
          dropped: 0,
        };
        this.#traces.set(s.traceId, e);
      }
      const size = spanSize(s);
      const old = e.spans.get(s.spanId);
      if (old) {
        const was = spanSize(old);
        e.bytes -= was;
        this.#bytes -= was;
        this.#spans--;
      } else if (e.spans.size >= this.maxSpansPerTrace) {
        e.dropped++;
        continue;
      }
      e.spans.set(s.spanId, s);
      e.bytes += size;
      this.#bytes += size;
      this.#spans++;
      e.updated = version;
      e.placed = undefined;
      e.row = undefined;
      kept++;
    }
    this.#evict();
    return kept;
  }

  #evict(): void {
    for (const e of this.#traces.values()) {
      if (this.#traces.size <= this.maxTraces && this.#bytes <= this.maxBytes) {
        break;
      }
      // Keep the newest trace even over the byte budget: a view of nothing helps no one.
      if (this.#traces.size === 1) break;
      this.#traces.delete(e.traceId);
      this.#bytes -= e.bytes;
      this.#spans -= e.spans.size;
      this.#droppedTraces++;
    }
  }

  #placed(e: Entry): Placed[] {
    return e.placed ??= treeOrder([...e.spans.values()]);
  }

  #row(e: Entry): TraceRow {
    return e.row ??= traceRow(e.traceId, this.#placed(e), e.seq, e.updated);
  }

  /** Every trace's row, newest first. */
  rows(): TraceRow[] {
    const out: TraceRow[] = [];
    for (const e of this.#traces.values()) out.push(this.#row(e));
    return out.reverse();
  }

  /** Rows of the traces changed after `since` (0: all), newest first. */
  changes(since = 0): Changes {
    const rows: TraceRow[] = [];
    let minSeq = this.#seq;
    for (const e of this.#traces.values()) {
      if (e.seq < minSeq) minSeq = e.seq;
      if (e.updated > since) rows.push(this.#row(e));
    }
    return {
      epoch: this.epoch,
      version: this.#version,
      minSeq,
      traces: this.#traces.size,
      rows: rows.reverse(),
    };
  }

  /** A trace's spans in tree order, and its row; `undefined` when not kept. */
  trace(
    traceId: string,
  ): { row: TraceRow; placed: Placed[]; droppedSpans: number } | undefined {
    const e = this.#traces.get(traceId);
    if (!e) return undefined;
    return {
      row: this.#row(e),
      placed: this.#placed(e),
      droppedSpans: e.dropped,
    };
  }
}

function positive(
  v: number | undefined,
  fallback: number,
  name: string,
): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  return v;
}
