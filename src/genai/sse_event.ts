/**
 * One server-sent event's data as the framer (`sse.ts`) collects it: a view
 * into the chunk while the event is one line of it, else its lines joined
 * (with `\n`) in one owned, reused buffer; bounded by the framer's limit.
 *
 * @module
 */

import { growBytes } from "../core/bytes.ts";

const LF = 0x0a;
/** Owned buffers bigger than this are not kept for the next event. */
export const KEEP_CAPACITY = 64 * 1024;

/**
 * The data of the event being framed. Fields are read by the framer
 * directly (a hot path): `buf[start..end)` is the data so far, `undefined`
 * when no data line has come; `bytes` counts the data lines with their
 * field names, for the limit; `oversized` marks an event that outgrew it.
 */
export class SseEventData {
  /** Where the data lies: a chunk (one line, viewed) or the owned buffer. */
  buf: Uint8Array | undefined = undefined;
  /** Start of the data in `buf`. */
  start = 0;
  /** End of the data in `buf`. */
  end = 0;
  /** Bytes of the event's data lines so far, field names included. */
  bytes = 0;
  /** The event outgrew the limit: it will be counted, not delivered. */
  oversized = false;
  #joined: Uint8Array | undefined;

  /**
   * Adds one data line's value `buf[start..end)`: a view when it is the
   * first line and `buf` outlives the event (`transient` false), else a copy
   * into the owned buffer.
   */
  add(buf: Uint8Array, start: number, end: number, transient: boolean): void {
    const held = this.buf;
    if (held === undefined && !transient) {
      this.buf = buf;
      this.start = start;
      this.end = end;
      return;
    }
    const had = held !== undefined;
    const used = had ? this.end - this.start : 0;
    const needed = used + (had ? 1 : 0) + end - start;
    const owned = this.#joined;
    const joined = growBytes(owned, needed, 0);
    if (had) {
      // Copy what is held first (it may be this very buffer: copyWithin).
      if (held === joined) {
        joined.copyWithin(0, this.start, this.end);
      } else {
        joined.set(held.subarray(this.start, this.end));
      }
      joined[used] = LF;
    }
    joined.set(buf.subarray(start, end), had ? used + 1 : 0);
    if (joined.length <= KEEP_CAPACITY) this.#joined = joined;
    this.buf = joined;
    this.start = 0;
    this.end = needed;
  }

  /**
   * Copies the data when it is still a view into `chunk`, which is about
   * to be handed on downstream (and may be transferred).
   */
  detach(chunk: Uint8Array): void {
    if (this.buf !== chunk) return;
    const start = this.start;
    const end = this.end;
    this.buf = undefined;
    this.add(chunk, start, end, true);
  }

  /** Marks the event oversized and drops its data. */
  oversize(): void {
    this.oversized = true;
    this.buf = undefined;
    this.bytes = 0;
  }

  /** Forgets the event (the owned buffer is kept for the next one). */
  reset(): void {
    this.buf = undefined;
    this.bytes = 0;
    this.oversized = false;
  }
}
