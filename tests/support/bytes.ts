/**
 * Byte helpers the test support code shares (kept apart from src/ so the
 * receiver stays independent of the code under test).
 *
 * @module
 */

/** The bytes of `parts`, one after the other, in one array. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
