/**
 * OTLP `KeyValue` / `AnyValue` encoding of attribute maps, with the official
 * serializer's typing rules (whole numbers within int64 as `int_value`, other
 * numbers as `double_value`, `Uint8Array` as bytes, arrays, objects as
 * `kvlist_value`, anything else as an empty value) and one optional
 * difference: numbers under a "double key" are always `double_value`.
 *
 * Two caches make repeated attributes cheap: each key's encoded bytes are
 * kept (bounded), and a key whose value stays the same from span to span
 * gets its whole encoded `KeyValue` kept and copied.
 *
 * @module
 */
import type { ProtoWriter } from "./proto_writer.ts";

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
/** Nesting beyond this writes an empty value (guards the stack). */
const MAX_DEPTH = 32;
/** Nested values per request beyond this are written empty (guards cycles). */
export const NESTED_BUDGET = 100_000;
/** Keys remembered per writer; later new keys are encoded each time. */
const MAX_KEYS = 1024;
/** Strings longer than this are never kept as a repeated value. */
const MAX_KEPT_CHARS = 96;
/** Equal values in a row before a `KeyValue` is kept. */
const KEEP_AFTER = 2;
/** Times a key's kept `KeyValue` may be replaced before it stops being kept. */
const MAX_REKEEPS = 8;

/** What is remembered about one attribute key. */
interface KeyEntry {
  /** `0x0a len key 0x12`: the key field and the value's tag. */
  prefix: Uint8Array;
  /** Numbers under this key are written as doubles. */
  dbl: boolean;
  /** The last scalar value seen under this key. */
  last: unknown;
  /** How many times in a row `last` was seen again. */
  repeats: number;
  /** The encoded `KeyValue` body of `last`, once kept. */
  kept: Uint8Array | undefined;
  /** How many times `kept` was made. */
  keeps: number;
}

/** The per-writer key cache. */
export type KeyCache = Map<string, KeyEntry>;

/** Per-request state of the attribute encoder. */
export interface AttributeState {
  /** Keys whose numbers are always `double_value`; `undefined` for none. */
  doubleKeys: ReadonlySet<string> | undefined;
  /** Nested array/kvlist values left for this request. */
  budget: number;
  /** The writer's key cache (lives across requests). */
  keys: KeyCache;
}

const hasOwn = Object.prototype.hasOwnProperty;
const encoder = new TextEncoder();
// JavaScriptCore walks `for...in` fastest; V8 gives dictionary-mode objects
// (SDK attribute maps past a dozen keys) their keys faster via Object.keys.
// Both give the same own enumerable keys in the same order.
const FOR_IN = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

function entryFor(key: string, st: AttributeState): KeyEntry | undefined {
  const e = st.keys.get(key);
  if (e !== undefined || st.keys.size >= MAX_KEYS) return e;
  const bytes = encoder.encode(key);
  const n = bytes.length;
  const head = n < 0x80 ? 2 : n < 0x4000 ? 3 : n < 0x200000 ? 4 : 5;
  const prefix = new Uint8Array(head + n + 1);
  prefix[0] = 0x0a;
  for (let v = n, i = 1; i < head; i++, v >>>= 7) {
    prefix[i] = i < head - 1 ? (v & 0x7f) | 0x80 : v;
  }
  prefix.set(bytes, head);
  prefix[head + n] = 0x12;
  const entry: KeyEntry = {
    prefix,
    dbl: st.doubleKeys?.has(key) ?? false,
    last: undefined,
    repeats: 0,
    kept: undefined,
    keeps: 0,
  };
  st.keys.set(key, entry);
  return entry;
}

/**
 * Writes `attributes` as repeated `KeyValue` under `field`, in the order
 * `for...in` gives own keys (the official serializer's order).
 */
export function writeAttributes(
  w: ProtoWriter,
  attributes: Record<string, unknown>,
  field: number,
  st: AttributeState,
): void {
  const tag = (field << 3) | 2;
  if (FOR_IN) {
    for (const key in attributes) {
      if (hasOwn.call(attributes, key)) {
        writeKeyValue(w, tag, key, attributes[key], st);
      }
    }
    return;
  }
  const keys = Object.keys(attributes);
  for (let i = 0; i < keys.length; i++) {
    writeKeyValue(w, tag, keys[i], attributes[keys[i]], st);
  }
}

function keepable(value: unknown): boolean {
  const t = typeof value;
  return t === "number" || t === "boolean" ||
    (t === "string" && (value as string).length <= MAX_KEPT_CHARS);
}

function writeKeyValue(
  w: ProtoWriter,
  tag: number,
  key: string,
  value: unknown,
  st: AttributeState,
): void {
  const e = entryFor(key, st);
  if (e === undefined) return writeKeyValueUncached(w, tag, key, value, st);
  const kept = e.kept;
  if (kept !== undefined && Object.is(e.last, value)) {
    w.need(2);
    w.byte(tag);
    w.byte(kept.length); // kept bodies are below 128 bytes
    w.copy(kept);
    return;
  }
  w.need(2);
  w.byte(tag);
  const at = w.begin(1);
  w.copy(e.prefix);
  writeValue(w, value, e.dbl, st);
  const len = w.pos - at - 1;
  if (Object.is(e.last, value)) {
    if (
      ++e.repeats >= KEEP_AFTER && kept === undefined && len < 0x80 &&
      e.keeps < MAX_REKEEPS
    ) {
      e.kept = w.buf.slice(at + 1, w.pos);
      e.keeps++;
    }
  } else if (keepable(value)) {
    e.last = value;
    e.repeats = 0;
    e.kept = undefined;
  }
  w.end(at, 1);
}

/**
 * The `AnyValue` of an attribute, framed: a number of a double-typed key
 * (`dbl`) as a double even when it is whole, anything else by its type.
 */
function writeValue(
  w: ProtoWriter,
  value: unknown,
  dbl: boolean,
  st: AttributeState,
): void {
  const any = w.begin(1);
  if (dbl && typeof value === "number") {
    w.need(1);
    w.byte(0x21);
    w.double(value);
  } else {
    writeAnyValue(w, value, 0, st);
  }
  w.end(any, 1);
}

function writeKeyValueUncached(
  w: ProtoWriter,
  tag: number,
  key: string,
  value: unknown,
  st: AttributeState,
): void {
  w.need(3);
  w.byte(tag);
  const kv = w.begin(1);
  w.byte(0x0a);
  w.str(key);
  w.need(2);
  w.byte(0x12);
  writeValue(w, value, st.doubleKeys?.has(key) === true, st);
  w.end(kv, 1);
}

/** Writes the fields of one `AnyValue` (its length is the caller's). */
function writeAnyValue(
  w: ProtoWriter,
  value: unknown,
  depth: number,
  st: AttributeState,
): void {
  switch (typeof value) {
    case "string":
      w.need(1);
      w.byte(0x0a);
      w.str(value);
      return;
    case "boolean":
      w.need(2);
      w.byte(0x10);
      w.byte(value ? 1 : 0);
      return;
    case "number":
      w.need(1);
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        w.byte(0x18);
        w.varint(value);
      } else {
        w.byte(0x21);
        w.double(value);
      }
      return;
    case "object":
      if (value === null || depth >= MAX_DEPTH) return;
      if (value instanceof Uint8Array) {
        w.need(1);
        w.byte(0x3a);
        w.bytes(value);
      } else if (Array.isArray(value)) {
        writeArray(w, value, depth, st);
      } else {
        writeKvList(w, value as Record<string, unknown>, depth, st);
      }
  }
}

function writeArray(
  w: ProtoWriter,
  items: unknown[],
  depth: number,
  st: AttributeState,
): void {
  w.need(2);
  w.byte(0x2a);
  const arr = w.begin(1);
  for (let i = 0; i < items.length; i++) {
    w.need(2);
    w.byte(0x0a);
    const item = w.begin(1);
    if (--st.budget > 0) writeAnyValue(w, items[i], depth + 1, st);
    w.end(item, 1);
  }
  w.end(arr, 1);
}

function writeKvList(
  w: ProtoWriter,
  obj: Record<string, unknown>,
  depth: number,
  st: AttributeState,
): void {
  w.need(2);
  w.byte(0x32);
  const list = w.begin(1);
  for (const k in obj) {
    if (!hasOwn.call(obj, k)) continue;
    w.need(3);
    w.byte(0x0a);
    const kv = w.begin(1);
    w.byte(0x0a);
    w.str(k);
    w.need(2);
    w.byte(0x12);
    const any = w.begin(1);
    if (--st.budget > 0) writeAnyValue(w, obj[k], depth + 1, st);
    w.end(any, 1);
    w.end(kv, 1);
  }
  w.end(list, 1);
}
