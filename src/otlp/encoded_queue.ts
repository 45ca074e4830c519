/**
 * The export queue of the encode-on-end processor: each span is written as
 * OTLP protobuf (a framed `ScopeSpans.spans` field, by llmtrace's writer)
 * into one growing byte arena when it ends, and the span object is let go.
 * A batch is the framing of an `ExportTraceServiceRequest` (resource and
 * scope, grouped as the official serializer groups them) around the queued
 * span bytes, copied in runs.
 *
 * Why one arena rather than one `Uint8Array` per span: the arena makes no
 * JS object per span (the queue is three typed arrays of offsets and group
 * numbers), and its backing store lives outside the JS heap, so the
 * garbage collector has nothing per span to trace or move. See
 * `bench/gc_processor.ts` for the measurement.
 *
 * @module
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { ProtoWriter } from "./proto_writer.ts";
import {
  type AttributeState,
  type KeyCache,
  NESTED_BUDGET,
} from "./key_values.ts";
import {
  DOUBLE_ATTRIBUTE_KEYS,
  writeFramedSpan,
  writeResourceSpans,
} from "./writer.ts";

/** One `ExportTraceServiceRequest`, ready for the transport. */
export interface EncodedBatch {
  /** The request body. */
  body: Uint8Array;
  /** How many spans it carries. */
  spans: number;
}

/** What {@link EncodedSpanQueue.push} did with a span. */
export const QUEUED = 0;
/** The queue was full (spans or bytes): the span was dropped. */
export const FULL = 1;
/** The span could not be read: left out, as the writer leaves it out. */
export const UNREADABLE = 2;

/** Initial arena size, and the size it goes back to once drained. */
const ARENA_START = 64 * 1024;
/** A drained arena larger than this is replaced by a small one. */
const ARENA_KEEP = 1024 * 1024;
/** The request scratch buffer grown beyond this is dropped after a batch. */
const SCRATCH_KEEP = 8 * 1024 * 1024;
/** Distinct (resource, scope) pairs queued at once; more are dropped. */
const MAX_GROUPS = 1024;

/** A (resource, scope) pair spans were queued under. */
interface Group {
  resource: unknown;
  scope: unknown;
  /** The official serializer's scope grouping key. */
  key: string;
}

/** `name@version:schemaUrl`, the key the official serializer groups by. */
function scopeKey(scope: unknown): string {
  const s = scope as
    | { name?: unknown; version?: unknown; schemaUrl?: unknown }
    | undefined;
  try {
    return `${s?.name}@${s?.version || ""}:${s?.schemaUrl || ""}`;
  } catch {
    return "";
  }
}

/** Spans encoded when they end, queued as bytes. */
export class EncodedSpanQueue {
  /** Spans queued. */
  count = 0;
  private arena = new ProtoWriter(ARENA_START);
  private readonly scratch = new ProtoWriter(ARENA_START);
  /** Where span `i`'s bytes end; they start where span `i - 1`'s end. */
  private readonly ends: Int32Array;
  /** The group of span `i`. */
  private readonly groupOf: Uint16Array;
  private groups: Group[] = [];
  private byResource = new Map<unknown, Map<unknown, number>>();
  private lastResource: unknown = undefined;
  private lastScope: unknown = undefined;
  private lastGroup = -1;
  private readonly st: AttributeState;

  /**
   * @param maxSpans The most spans queued (`OTEL_BSP_MAX_QUEUE_SIZE`).
   * @param maxBytes The most encoded bytes queued.
   * @param doubleKeys Keys whose numbers are always doubles (see the writer).
   */
  constructor(
    readonly maxSpans: number,
    readonly maxBytes: number,
    doubleKeys: ReadonlySet<string> = DOUBLE_ATTRIBUTE_KEYS,
  ) {
    this.ends = new Int32Array(maxSpans);
    this.groupOf = new Uint16Array(maxSpans);
    const keys: KeyCache = new Map();
    this.st = {
      doubleKeys: doubleKeys.size > 0 ? doubleKeys : undefined,
      budget: NESTED_BUDGET,
      keys,
    };
  }

  /** Encoded bytes queued. */
  get bytes(): number {
    return this.arena.pos;
  }

  /** Encodes `span` at the end of the queue: {@link QUEUED}, {@link FULL} or {@link UNREADABLE}. */
  push(span: ReadableSpan): number {
    if (this.count >= this.maxSpans) return FULL;
    let resource: unknown;
    let scope: unknown;
    try {
      resource = span.resource;
      scope = span.instrumentationScope;
    } catch {
      return UNREADABLE;
    }
    const group = this.groupFor(resource, scope);
    if (group < 0) return FULL;
    const w = this.arena;
    const start = w.pos;
    this.st.budget = NESTED_BUDGET;
    if (!writeFramedSpan(w, span, this.st)) return UNREADABLE;
    if (w.pos > this.maxBytes) {
      w.pos = start;
      return FULL;
    }
    this.ends[this.count] = w.pos;
    this.groupOf[this.count++] = group;
    return QUEUED;
  }

  private groupFor(resource: unknown, scope: unknown): number {
    if (scope === this.lastScope && resource === this.lastResource) {
      return this.lastGroup;
    }
    let scopes = this.byResource.get(resource);
    let g = scopes?.get(scope);
    if (g === undefined) {
      if (this.groups.length >= MAX_GROUPS) return -1;
      g = this.groups.length;
      this.groups.push({ resource, scope, key: scopeKey(scope) });
      if (scopes === undefined) {
        this.byResource.set(resource, scopes = new Map());
      }
      scopes.set(scope, g);
    }
    this.lastResource = resource;
    this.lastScope = scope;
    return this.lastGroup = g;
  }

  /**
   * The resources of queued spans still waiting for asynchronous attributes
   * (the SDK's `waitForAsyncAttributes`), as the batch processor waits for
   * them before it exports.
   */
  pendingResources(): Promise<unknown>[] | undefined {
    let out: Promise<unknown>[] | undefined;
    for (const g of this.groups) {
      const r = g.resource as {
        asyncAttributesPending?: boolean;
        waitForAsyncAttributes?: () => Promise<unknown>;
      } | undefined;
      if (r?.asyncAttributesPending && r.waitForAsyncAttributes) {
        (out ??= []).push(r.waitForAsyncAttributes());
      }
    }
    return out;
  }

  /**
   * Takes the first `max` spans off the queue as one request: by resource
   * (by identity), then by scope (`name@version:schemaUrl`), each in the
   * order first seen, as the official serializer groups them.
   */
  take(max: number): EncodedBatch | undefined {
    const n = Math.min(max, this.count);
    if (n <= 0) return undefined;
    const w = this.scratch;
    w.reset(SCRATCH_KEEP);
    const st = this.st;
    st.budget = NESTED_BUDGET;
    writeResourceSpans(w, this.batchGroups(n), st, this.copySpans);
    const body = w.finish();
    w.reset(SCRATCH_KEEP);
    this.drop(n);
    return { body, spans: n };
  }

  /** The first `n` spans' indices by resource, then scope. */
  private batchGroups(n: number): Map<unknown, Map<unknown, number[]>> {
    const out = new Map<unknown, Map<unknown, number[]>>();
    // resource -> scope key -> the list of the first scope with that key
    const byKey = new Map<unknown, Map<string, number[]>>();
    for (let i = 0; i < n; i++) {
      const g = this.groups[this.groupOf[i]];
      let keys = byKey.get(g.resource);
      if (keys === undefined) {
        byKey.set(g.resource, keys = new Map());
        out.set(g.resource, new Map());
      }
      let list = keys.get(g.key);
      if (list === undefined) {
        keys.set(g.key, list = []);
        out.get(g.resource)!.set(g.scope, list);
      }
      list.push(i);
    }
    return out;
  }

  /** Copies the queued spans `indices` (ascending), run by run. */
  private copySpans = (w: ProtoWriter, indices: number[]): number => {
    const src = this.arena.buf;
    const ends = this.ends;
    for (let i = 0; i < indices.length;) {
      let j = i;
      while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j++;
      const first = indices[i];
      w.copy(src.subarray(first === 0 ? 0 : ends[first - 1], ends[indices[j]]));
      i = j + 1;
    }
    return indices.length;
  };

  /** Drops the first `n` spans, moving the rest to the front. */
  private drop(n: number): void {
    const cut = this.ends[n - 1];
    const a = this.arena;
    const left = this.count - n;
    if (left > 0) {
      a.buf.copyWithin(0, cut, a.pos);
      for (let i = 0; i < left; i++) {
        this.ends[i] = this.ends[i + n] - cut;
      }
      this.groupOf.copyWithin(0, n, this.count);
    }
    a.pos -= cut;
    this.count = left;
    if (left > 0) return;
    if (a.buf.length > ARENA_KEEP) this.arena = new ProtoWriter(ARENA_START);
    if (this.groups.length > 16) {
      this.groups = [];
      this.byResource = new Map();
      this.lastResource = this.lastScope = undefined;
      this.lastGroup = -1;
    }
  }
}
