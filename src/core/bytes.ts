/**
 * Byte helpers shared by the request and response readers.
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
