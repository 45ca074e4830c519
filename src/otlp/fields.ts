/**
 * The two OTLP field encodings the SDK's span model needs converting for:
 * hex trace/span ids as bytes, and `HrTime` `[seconds, nanos]` as fixed64
 * nanoseconds.
 *
 * @module
 */
import type { ProtoWriter } from "./proto_writer.ts";

const TWO_32 = 4294967296;

/**
 * The value a hex digit stands for. Not a digit: `code - 55` (what `A`–`F`
 * need), the same arithmetic the official decoder applies to any code, so
 * malformed ids come out as the same bytes.
 */
function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return (code - 55) & 0xff;
}

/** {@link nibble} of every ASCII code. */
const NIBBLE = new Uint8Array(128);
for (let c = 0; c < 128; c++) NIBBLE[c] = nibble(c);

/**
 * Writes a hex id as a length-delimited bytes field body: `floor(length / 2)`
 * bytes, two hex digits each (a non-string is written as no bytes).
 */
export function writeHexId(w: ProtoWriter, hex: string): void {
  if (typeof hex !== "string") hex = "";
  const n = hex.length >>> 1;
  w.need(n + 5);
  if (n < 0x80) w.byte(n);
  else w.varint(n);
  const b = w.buf;
  let p = w.pos;
  for (let i = 0; i < n; i++) {
    const h = hex.charCodeAt(2 * i);
    const l = hex.charCodeAt(2 * i + 1);
    b[p++] = ((h < 128 ? NIBBLE[h] : nibble(h)) << 4) |
      (l < 128 ? NIBBLE[l] : nibble(l));
  }
  w.pos = p;
}

/**
 * Writes `[seconds, nanos]` as fixed64 nanoseconds. Whole non-negative
 * 32-bit parts (every time the SDK makes up to 2106) take an exact path
 * without BigInt: the low 32 bits of `s * 1e9` come from `Math.imul`, and
 * the high 32 from the (inexact) double product, which is within 2^10 of the
 * truth, so rounding `(product - low) / 2^32` is exact. Anything else
 * (negative, fractional, huge, missing) is truncated, and a negative or
 * non-finite total is written as 0.
 */
export function writeHrTime(w: ProtoWriter, t: unknown): void {
  const a = t as ArrayLike<number> | null | undefined;
  const s = a?.[0] as number;
  const ns = a?.[1] as number;
  if (s >>> 0 === s && ns >>> 0 === ns) {
    const low = Math.imul(s, 1000000000) >>> 0;
    const sum = low + ns;
    const high = Math.round((s * 1e9 - low) / TWO_32) +
      (sum >= TWO_32 ? 1 : 0);
    w.fixed64(sum >>> 0, high);
    return;
  }
  const whole = (v: unknown) =>
    typeof v === "number" && Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  let total = whole(s) * 1000000000n + whole(ns);
  if (total < 0n) total = 0n;
  total = BigInt.asUintN(64, total);
  w.fixed64(Number(total & 0xffffffffn), Number(total >> 32n));
}
