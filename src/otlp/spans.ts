/**
 * The messages of an OTLP `ExportTraceServiceRequest` below `ScopeSpans`,
 * written from SDK objects with the official serializer's field order and
 * presence rules: `Span` (with `Event`, `Link`, `Status`),
 * `InstrumentationScope` and `Resource`.
 *
 * @module
 */
import type { Link, SpanContext } from "@opentelemetry/api";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";
import type { ProtoWriter } from "./proto_writer.ts";
import { type AttributeState, writeAttributes } from "./key_values.ts";
import { writeHexId, writeHrTime } from "./fields.ts";

type Attrs = Record<string, unknown>;
/** A scope as the official serializer reads it (attributes if present). */
export type Scope = ReadableSpan["instrumentationScope"] & {
  attributes?: Attrs;
  droppedAttributesCount?: number;
};

const NO_CONTEXT = { traceId: "", spanId: "", traceFlags: 0 } as SpanContext;

function traceState(ctx: SpanContext): string | undefined {
  const ts = ctx.traceState;
  return ts != null && typeof ts.serialize === "function"
    ? ts.serialize()
    : undefined;
}

/** W3C trace flags plus the OTLP "has is_remote" and "is_remote" bits. */
function flags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);
}

function writeEvent(w: ProtoWriter, e: TimedEvent, st: AttributeState): void {
  w.need(1);
  w.byte(0x09);
  writeHrTime(w, e.time);
  w.need(1);
  w.byte(0x12);
  w.str(e.name);
  if (e.attributes) writeAttributes(w, e.attributes, 3, st);
  w.need(1);
  w.byte(0x20);
  w.varint(e.droppedAttributesCount || 0);
}

/** Fields 1-3 of a span and of a link alike: trace id, span id, tracestate. */
function writeIds(w: ProtoWriter, ctx: SpanContext): void {
  w.need(2);
  w.byte(0x0a);
  writeHexId(w, ctx.traceId);
  w.need(1);
  w.byte(0x12);
  writeHexId(w, ctx.spanId);
  const ts = traceState(ctx);
  if (ts) {
    w.need(1);
    w.byte(0x1a);
    w.str(ts);
  }
}

function writeLink(w: ProtoWriter, link: Link, st: AttributeState): void {
  const ctx = link.context ?? NO_CONTEXT;
  writeIds(w, ctx);
  if (link.attributes) writeAttributes(w, link.attributes, 4, st);
  w.need(6);
  w.byte(0x28);
  w.varint(link.droppedAttributesCount || 0);
  w.need(5);
  w.byte(0x35);
  w.fixed32(flags(ctx.traceFlags, ctx.isRemote));
}

/** Each of `items` (events, links) as one length-delimited field `tag`. */
function writeRepeated<T>(
  w: ProtoWriter,
  tag: number,
  items: readonly T[] | undefined,
  write: (w: ProtoWriter, item: T, st: AttributeState) => void,
  st: AttributeState,
): void {
  if (!Array.isArray(items)) return;
  for (let i = 0; i < items.length; i++) {
    w.need(2);
    w.byte(tag);
    const at = w.begin(1);
    write(w, items[i], st);
    w.end(at, 1);
  }
}

/** Writes the body of one `Span` (the caller frames it). */
export function writeSpan(
  w: ProtoWriter,
  span: ReadableSpan,
  st: AttributeState,
) {
  const ctx = span.spanContext() ?? NO_CONTEXT;
  writeIds(w, ctx);
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    w.need(1);
    w.byte(0x22);
    writeHexId(w, parent.spanId);
  }
  w.need(1);
  w.byte(0x2a);
  w.str(span.name);
  const kind = span.kind == null ? 0 : span.kind + 1;
  if (kind !== 0) {
    w.need(1);
    w.byte(0x30);
    w.varint(kind);
  }
  w.need(1);
  w.byte(0x39);
  writeHrTime(w, span.startTime);
  w.need(1);
  w.byte(0x41);
  writeHrTime(w, span.endTime);
  if (span.attributes) writeAttributes(w, span.attributes, 9, st);
  w.need(1);
  w.byte(0x50);
  w.varint(span.droppedAttributesCount);
  writeRepeated(w, 0x5a, span.events, writeEvent, st);
  w.need(1);
  w.byte(0x60);
  w.varint(span.droppedEventsCount);
  writeRepeated(w, 0x6a, span.links, writeLink, st);
  w.need(1);
  w.byte(0x70);
  w.varint(span.droppedLinksCount);
  const status = span.status ?? { code: 0 };
  w.need(2);
  w.byte(0x7a);
  const at = w.begin(1);
  if (status.message) {
    w.need(1);
    w.byte(0x12);
    w.str(status.message);
  }
  w.need(1);
  w.byte(0x18);
  w.varint(status.code);
  w.end(at, 1);
  w.need(6);
  w.byte(0x85);
  w.byte(0x01);
  w.fixed32(flags(ctx.traceFlags, parent?.isRemote));
}

/** Writes `ScopeSpans.scope`: tag, length and `InstrumentationScope`. */
export function writeScope(
  w: ProtoWriter,
  scope: Scope,
  st: AttributeState,
): void {
  w.need(2);
  w.byte(0x0a);
  const at = w.begin(1);
  w.need(1);
  w.byte(0x0a);
  w.str(scope?.name);
  if (scope?.version) {
    w.need(1);
    w.byte(0x12);
    w.str(scope.version);
  }
  if (scope?.attributes) writeAttributes(w, scope.attributes, 3, st);
  if (scope?.droppedAttributesCount) {
    w.need(1);
    w.byte(0x20);
    w.varint(scope.droppedAttributesCount);
  }
  w.end(at, 1);
}

/**
 * Writes `ResourceSpans.resource`: tag, length and `Resource` (attributes
 * and a `dropped_attributes_count` of 0, as the official serializer does).
 */
export function writeResource(
  w: ProtoWriter,
  res: unknown,
  st: AttributeState,
) {
  w.need(3);
  w.byte(0x0a);
  const at = w.begin(2);
  const attrs = (res as { attributes?: Attrs } | undefined)?.attributes;
  if (attrs) writeAttributes(w, attrs, 1, st);
  w.need(2);
  w.byte(0x10);
  w.byte(0);
  w.end(at, 2);
}

/** Writes `ScopeSpans.schema_url` / `ResourceSpans.schema_url` when set. */
export function writeSchemaUrl(w: ProtoWriter, owner: unknown): void {
  const url = (owner as { schemaUrl?: string } | undefined)?.schemaUrl;
  if (url) {
    w.need(1);
    w.byte(0x1a);
    w.str(url);
  }
}
