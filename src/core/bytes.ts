/**
 * Byte helpers shared by the request, response and stream readers.
 *
 * @module
 */

/**
 * The bytes of `parts` in one array: the only part itself when there is one
 * (no copy), else one copy of `total` bytes.
 *
 * @param parts The chunks, in order.
 * @param total Their summed byte length.
 * @returns One array holding all of them.
 */
export function concatBytes(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/**
 * `buf` when it holds at least `needed` bytes, else a new array of the next
 * power-of-two multiple of its size (from 256) holding the first `keep`
 * bytes of `buf`.
 *
 * @param buf The current buffer, if any.
 * @param needed The bytes it must hold.
 * @param keep How many leading bytes of `buf` to carry over when it grows.
 * @returns A buffer of at least `needed` bytes.
 */
export function growBytes(
  buf: Uint8Array | undefined,
  needed: number,
  keep: number,
): Uint8Array {
  if (buf !== undefined && buf.length >= needed) return buf;
  let capacity = buf === undefined ? 256 : buf.length * 2;
  while (capacity < needed) capacity *= 2;
  const grown = new Uint8Array(capacity);
  if (keep > 0) grown.set(buf!.subarray(0, keep));
  return grown;
}
