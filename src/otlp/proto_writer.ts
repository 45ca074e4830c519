/**
 * A growable protobuf byte writer for one-pass encoding: varints, fixed32/64,
 * doubles, strings, raw bytes, and nested messages whose length prefix is
 * reserved up front and fixed up afterwards (moving the body only when the
 * reserved size was wrong), so the output is the canonical encoding with
 * minimal length varints.
 *
 * @module
 */

const TWO_32 = 4294967296;

/** Bytes of the minimal varint for a length (`0 <= n < 2^32`). */
function varintSize(n: number): number {
  return n < 0x80
    ? 1
    : n < 0x4000
    ? 2
    : n < 0x200000
    ? 3
    : n < 0x10000000
    ? 4
    : 5;
}

/** `Number(v)`, or NaN where that throws (symbols, hostile `valueOf`). */
function toNumber(v: unknown): number {
  try {
    return Number(v);
  } catch {
    return NaN;
  }
}

/** UTF-8 length of a string as `TextEncoder` encodes it (lone surrogates: 3). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

const encoder = new TextEncoder();
/** Strings at least this long are encoded natively rather than char by char. */
const NATIVE_MIN = 64;

/** Writes protobuf into one buffer that grows by doubling. */
export class ProtoWriter {
  /** The buffer; replaced when it grows. */
  buf: Uint8Array;
  /** Bytes written so far. */
  pos = 0;
  private view: DataView;

  /** @param size Initial capacity in bytes. */
  constructor(size = 64 * 1024) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  need(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Starts over, dropping a buffer grown beyond `keep` bytes. */
  reset(keep: number): void {
    this.pos = 0;
    if (this.buf.length > keep) {
      this.buf = new Uint8Array(64 * 1024);
      this.view = new DataView(this.buf.buffer);
    }
  }

  /** One byte (a tag below 128, a bool); the caller made room. */
  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /**
   * A varint of `trunc(v) mod 2^64` (negative numbers as 10-byte two's
   * complement, non-finite as 0), which is how int64 fields carry numbers.
   * A non-number is converted first, as the official writer's arithmetic
   * converts it.
   */
  varint(v: number): void {
    this.need(10);
    if (typeof v !== "number") v = toNumber(v);
    const b = this.buf;
    let p = this.pos;
    if (v >>> 0 === v) {
      while (v > 0x7f) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[p++] = v;
      this.pos = p;
      return;
    }
    let lo = 0;
    let hi = 0;
    if (Number.isFinite(v)) {
      const a = Math.abs(Math.trunc(v));
      lo = a >>> 0;
      hi = (a / TWO_32) >>> 0;
      if (v < 0 && (lo !== 0 || hi !== 0)) {
        lo = ~lo >>> 0;
        hi = ~hi >>> 0;
        lo = (lo + 1) >>> 0;
        if (lo === 0) hi = (hi + 1) >>> 0;
      }
    }
    while (hi !== 0 || lo > 0x7f) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  /** 4 bytes little-endian. */
  fixed32(v: number): void {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    b[p + 2] = v >>> 16;
    b[p + 3] = v >>> 24;
    this.pos = p + 4;
  }

  /** 8 bytes little-endian from two 32-bit halves. */
  fixed64(lo: number, hi: number): void {
    this.fixed32(lo);
    this.fixed32(hi);
  }

  /** An IEEE 754 double, little-endian. */
  double(v: number): void {
    this.need(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** A length-delimited UTF-8 string (a non-string is written as ""). */
  str(s: string): void {
    if (typeof s !== "string") s = "";
    const n = s.length;
    if (n >= NATIVE_MIN) return this.strNative(s);
    this.need(n + 1);
    const b = this.buf;
    let p = this.pos;
    b[p++] = n;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return this.strUtf8(s);
      b[p++] = c;
    }
    this.pos = p;
  }

  private strUtf8(s: string): void {
    const len = utf8Length(s);
    this.varint(len);
    this.need(len);
    encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
  }

  /** Long strings: encode natively, guessing ASCII for the length prefix. */
  private strNative(s: string): void {
    const n = s.length;
    const guess = varintSize(n);
    this.need(guess + 1 + n * 3);
    const start = this.pos;
    const body = start + guess;
    const { written } = encoder.encodeInto(
      s,
      this.buf.subarray(body, body + n * 3),
    );
    const size = varintSize(written);
    if (size !== guess) {
      this.buf.copyWithin(start + size, body, body + written);
    }
    this.pos = this.putLength(start, written) + written;
  }

  /** Raw bytes as they are (no length). */
  copy(v: Uint8Array): void {
    this.need(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Raw bytes, length-delimited. */
  bytes(v: Uint8Array): void {
    this.varint(v.length);
    this.need(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /**
   * Starts a nested message, reserving `reserve` bytes for its length.
   *
   * @returns Where the length goes, for {@link end}.
   */
  begin(reserve: number): number {
    this.need(reserve);
    const at = this.pos;
    this.pos += reserve;
    return at;
  }

  /** Writes the length of the message begun at `at` with `reserve` bytes. */
  end(at: number, reserve: number): void {
    const len = this.pos - at - reserve;
    if (reserve === 1 && len < 0x80) {
      this.buf[at] = len;
      return;
    }
    const size = varintSize(len);
    if (size !== reserve) {
      this.need(size - reserve);
      this.buf.copyWithin(at + size, at + reserve, this.pos);
      this.pos += size - reserve;
    }
    this.putLength(at, len);
  }

  /** Writes `v < 2^32` as a varint at `at` (room made); returns the end. */
  private putLength(at: number, v: number): number {
    const b = this.buf;
    while (v > 0x7f) {
      b[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[at++] = v;
    return at;
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
