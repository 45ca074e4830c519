/**
 * Decodes a binary OTLP `ExportTraceServiceRequest` (opentelemetry-proto
 * `trace/v1`, `common/v1`, `resource/v1`) into {@link ViewSpan}s.
 *
 * A reader of our own rather than protobufjs at run time: the trace schema is
 * thirty fields of five wire types, and the viewer ships with no dependency
 * beyond the package's. Unknown fields are skipped (newer protos still
 * decode); anything truncated or out of range is an {@link OtlpDecodeError}
 * naming the byte offset. tests/view/otlp_proto_property_test.ts checks it
 * against the official encoder and an independent protobufjs decoder.
 *
 * @module
 */
import {
  type Attributes,
  type AttrValue,
  OtlpDecodeError,
  toHex,
  type ViewSpan,
} from "./model.ts";

// AnyValue nests through arrays and kvlists; a hostile body could nest
// deeper than the stack. No exporter nests this deep.
const MAX_DEPTH = 32;
const utf8 = new TextDecoder();

class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }

  fail(what: string): never {
    throw new OtlpDecodeError(
      `malformed protobuf at byte ${this.pos}: ${what}`,
    );
  }

  /** A varint as a number; exact up to 2^53 (lengths, tags, enums). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    this.fail("varint longer than 10 bytes");
  }

  /** A varint as a two's-complement int64 (`int_value`). */
  int64(): number | bigint {
    const start = this.pos;
    const n = this.varint();
    if (n <= Number.MAX_SAFE_INTEGER) return n;
    let v = 0n;
    let shift = 0n;
    for (let p = start; p < this.pos; p++) {
      v |= BigInt(this.buf[p] & 0x7f) << shift;
      shift += 7n;
    }
    v = BigInt.asIntN(64, v);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) &&
        v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) this.fail("truncated fixed32");
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p] | b[p + 1] << 8 | b[p + 2] << 16 | b[p + 3] << 24) >>> 0;
  }

  fixed64(): bigint {
    const lo = this.fixed32();
    const hi = this.fixed32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  double(): number {
    if (this.pos + 8 > this.end) this.fail("truncated double");
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8)
      .getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** The bounds of a length-delimited field's payload. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (len > this.end - start) this.fail(`length ${len} past the end`);
    this.pos = start + len;
    return [start, start + len];
  }

  bytes(): Uint8Array {
    const [s, e] = this.span();
    return this.buf.slice(s, e);
  }

  string(): string {
    const [s, e] = this.span();
    return utf8.decode(this.buf.subarray(s, e));
  }

  sub(): Reader {
    const [s, e] = this.span();
    return new Reader(this.buf, s, e);
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.skipBytes(8);
    else if (wire === 2) this.span();
    else if (wire === 5) this.skipBytes(4);
    else this.fail(`unsupported wire type ${wire}`);
  }

  skipBytes(n: number): void {
    if (this.pos + n > this.end) this.fail("truncated field");
    this.pos += n;
  }

  /** Calls `field(number, wireType)` for each field; it reads or returns false. */
  each(field: (n: number, wire: number) => boolean | void): void {
    while (this.pos < this.end) {
      const tag = this.varint();
      const n = Math.floor(tag / 8);
      const wire = tag & 7;
      if (n === 0) this.fail("field number 0");
      if (field(n, wire) === false) this.skip(wire);
    }
  }
}

function expectWire(r: Reader, wire: number, want: number, what: string): void {
  if (wire !== want) r.fail(`${what} has wire type ${wire}, expected ${want}`);
}

function anyValue(r: Reader, depth: number): AttrValue {
  if (depth > MAX_DEPTH) r.fail(`AnyValue nested deeper than ${MAX_DEPTH}`);
  let v: AttrValue = null;
  r.each((n, w) => {
    if (n === 1 && w === 2) v = r.string();
    else if (n === 2 && w === 0) v = r.varint() !== 0;
    else if (n === 3 && w === 0) v = r.int64();
    else if (n === 4 && w === 1) v = r.double();
    else if (n === 5 && w === 2) {
      const a = r.sub();
      const list: AttrValue[] = [];
      a.each((m, w2) => {
        if (m !== 1) return false;
        expectWire(a, w2, 2, "ArrayValue.values");
        list.push(anyValue(a.sub(), depth + 1));
      });
      v = list;
    } else if (n === 6 && w === 2) {
      v = keyValues(r.sub(), 1, depth + 1);
    } else if (n === 7 && w === 2) v = r.bytes();
    else return false;
  });
  return v;
}

/** The `KeyValue`s in field `field` of the message `r` reads. */
function keyValues(
  r: Reader,
  field: number,
  depth: number,
  out: Attributes = {},
): Attributes {
  r.each((n, w) => {
    if (n !== field) return false;
    expectWire(r, w, 2, "KeyValue");
    readKeyValue(r.sub(), out, depth);
  });
  return out;
}

function readKeyValue(r: Reader, out: Attributes, depth: number): void {
  let key = "";
  let value: AttrValue = null;
  r.each((n, w) => {
    if (n === 1 && w === 2) key = r.string();
    else if (n === 2 && w === 2) value = anyValue(r.sub(), depth);
    else return false;
  });
  // defineProperty: a key "__proto__" is data, not the object's prototype.
  Object.defineProperty(out, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function status(r: Reader): ViewSpan["status"] {
  const s = { code: 0, message: "" };
  r.each((n, w) => {
    if (n === 2 && w === 2) s.message = r.string();
    else if (n === 3 && w === 0) s.code = r.varint();
    else return false;
  });
  return s;
}

function event(r: Reader): ViewSpan["events"][number] {
  const e = { name: "", timeUnixNano: 0n, attributes: {} as Attributes };
  r.each((n, w) => {
    if (n === 1 && w === 1) e.timeUnixNano = r.fixed64();
    else if (n === 2 && w === 2) e.name = r.string();
    else if (n === 3 && w === 2) readKeyValue(r.sub(), e.attributes, 0);
    else return false;
  });
  return e;
}

function link(r: Reader): ViewSpan["links"][number] {
  const l = { traceId: "", spanId: "", traceState: "", attributes: {} };
  r.each((n, w) => {
    if (n === 1 && w === 2) l.traceId = toHex(r.bytes());
    else if (n === 2 && w === 2) l.spanId = toHex(r.bytes());
    else if (n === 3 && w === 2) l.traceState = r.string();
    else if (n === 4 && w === 2) readKeyValue(r.sub(), l.attributes, 0);
    else return false;
  });
  return l;
}

function span(
  r: Reader,
  resource: Attributes,
  scope: ViewSpan["scope"],
): ViewSpan {
  const s: ViewSpan = {
    traceId: "",
    spanId: "",
    parentSpanId: undefined,
    traceState: "",
    flags: 0,
    name: "",
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {},
    events: [],
    links: [],
    status: { code: 0, message: "" },
    resource,
    scope,
  };
  r.each((n, w) => {
    if (n === 1 && w === 2) s.traceId = toHex(r.bytes());
    else if (n === 2 && w === 2) s.spanId = toHex(r.bytes());
    else if (n === 3 && w === 2) s.traceState = r.string();
    else if (n === 4 && w === 2) s.parentSpanId = toHex(r.bytes()) || undefined;
    else if (n === 5 && w === 2) s.name = r.string();
    else if (n === 6 && w === 0) s.kind = r.varint();
    else if (n === 7 && w === 1) s.startTimeUnixNano = r.fixed64();
    else if (n === 8 && w === 1) s.endTimeUnixNano = r.fixed64();
    else if (n === 9 && w === 2) readKeyValue(r.sub(), s.attributes, 0);
    else if (n === 11 && w === 2) s.events.push(event(r.sub()));
    else if (n === 13 && w === 2) s.links.push(link(r.sub()));
    else if (n === 15 && w === 2) s.status = status(r.sub());
    else if (n === 16 && w === 5) s.flags = r.fixed32();
    else return false;
  });
  return s;
}

/**
 * The spans of an `ExportTraceServiceRequest`, each with its resource's
 * attributes and its scope.
 *
 * @throws {OtlpDecodeError} on malformed protobuf.
 */
export function decodeTraceProto(bytes: Uint8Array): ViewSpan[] {
  const out: ViewSpan[] = [];
  const top = new Reader(bytes, 0, bytes.length);
  top.each((n, w) => {
    if (n !== 1) return false;
    expectWire(top, w, 2, "ResourceSpans");
    const rs = top.sub();
    let resource: Attributes = {};
    // Scope spans may precede the resource on the wire: decode them after.
    const scopes: Reader[] = [];
    rs.each((m, w2) => {
      if (m === 1 && w2 === 2) resource = keyValues(rs.sub(), 1, 0);
      else if (m === 2 && w2 === 2) scopes.push(rs.sub());
      else return false;
    });
    for (const ss of scopes) {
      const scope = { name: "", version: "" };
      const spans: Reader[] = [];
      ss.each((m, w2) => {
        if (m === 1 && w2 === 2) {
          const sc = ss.sub();
          sc.each((k, w3) => {
            if (k === 1 && w3 === 2) scope.name = sc.string();
            else if (k === 2 && w3 === 2) scope.version = sc.string();
            else return false;
          });
        } else if (m === 2 && w2 === 2) spans.push(ss.sub());
        else return false;
      });
      for (const sp of spans) out.push(span(sp, resource, scope));
    }
  });
  return out;
}
