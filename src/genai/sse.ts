/**
 * A server-sent-events framer: bytes in, one event's `data` out, as bytes
 * (a view into the chunk when the data was one line of it: no copy, no
 * decoding). It only frames (line ends, fields, comments, the BOM, bounded
 * buffering); what the data means is for the reader built on it
 * (`openai_stream.ts`), which decodes only the events it must parse.
 *
 * @module
 */

/**
 * Options of {@link SseFramer}.
 */
export interface SseFramerOptions {
  /**
   * An event whose `data` lines (field names included) total more bytes
   * than this is skipped and counted in {@link SseFramer.oversized}; at most
   * about this many bytes are ever held. Default 1 MiB.
   */
  maxEventBytes?: number;
}

import { growBytes } from "../core/bytes.ts";
import { KEEP_CAPACITY, SseEventData } from "./sse_event.ts";

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
/** The bytes of `data:`. */
const DATA_FIELD = [0x64, 0x61, 0x74, 0x61, COLON];
const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

/**
 * Receives one event's data: `buf[start..end)`, data lines joined with `\n`.
 * The bytes are valid only during the call (they may be the framer's own
 * buffer, reused for the next event).
 */
export type SseEventHandler = (
  buf: Uint8Array,
  start: number,
  end: number,
) => void;

/** Whether the three bytes are the UTF-8 byte order mark. */
function isBom(b0: number, b1: number, b2: number): boolean {
  return b0 === 0xef && b1 === 0xbb && b2 === 0xbf;
}

/** Whether `buf[start..end)` begins with the field name `data` ended by `:` or the line end. */
function isDataLine(buf: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  return length >= 4 && buf[start] === 0x64 && buf[start + 1] === 0x61 &&
    buf[start + 2] === 0x74 && buf[start + 3] === 0x61 &&
    (length === 4 || buf[start + 4] === COLON);
}

/**
 * Frames a `text/event-stream` as its chunks pass by, without copying
 * complete events: it scans the bytes for line ends, decodes only the `data`
 * values with one shared `TextDecoder`, and keeps just the incomplete last
 * line (bounded by `maxEventBytes`) between chunks.
 *
 * Lines may end with `\n`, `\r\n` or `\r`; a blank line ends an event; lines
 * starting with `:` are comments; fields other than `data` are ignored; a
 * leading BOM is skipped; an event without data lines is not delivered.
 * Events, line ends and multi-byte characters may be split across chunks at
 * any byte. Never throws: `onEvent` must not throw either (if it does, the
 * error is dropped and the current line discarded).
 */
export class SseFramer {
  readonly #onEvent: SseEventHandler;
  readonly #maxEventBytes: number;
  #oversizedEvents = 0;

  /** Bytes of the incomplete last line; `#tailLength` of them are in use. */
  #tail: Uint8Array | undefined;
  #tailLength = 0;
  /** The incomplete last line outgrew the limit: drop bytes up to its end. */
  #discardingLine = false;
  /** The previous chunk ended with `\r`: a `\n` starting the next one belongs to it. */
  #skipLF = false;
  /** No line has been completed yet (for the BOM). */
  #firstLine = true;
  /** The current event's data. */
  readonly #event = new SseEventData();
  #ended = false;

  /**
   * Creates a framer that calls `onEvent` with each event's data.
   */
  constructor(onEvent: SseEventHandler, options?: SseFramerOptions) {
    this.#onEvent = onEvent;
    const max = options?.maxEventBytes;
    this.#maxEventBytes = typeof max === "number" && max >= 0 && max === max
      ? Math.floor(max)
      : DEFAULT_MAX_EVENT_BYTES;
  }

  /**
   * Feeds one chunk; delivers every event it completes. Chunks after
   * {@link SseFramer.end} and non-`Uint8Array` chunks are ignored.
   */
  push(chunk: Uint8Array): void {
    if (this.#ended || !(chunk instanceof Uint8Array)) return;
    try {
      this.#scan(chunk);
      this.#event.detach(chunk);
    } catch {
      // Not expected (onEvent must not throw): stay usable, keep flowing.
      this.#resetLine();
    }
  }

  /**
   * Ends the stream: a trailing line without its line end is processed and
   * a final event not followed by a blank line is delivered.
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      if (this.#discardingLine) {
        this.#discardingLine = false;
      } else if (this.#tailLength > 0) {
        const length = this.#tailLength;
        this.#tailLength = 0;
        this.#line(this.#tail!, 0, length);
      }
      this.#tail = undefined;
      this.#dispatch();
    } catch {
      // as in push
    }
    this.#resetLine();
  }

  /**
   * Bytes currently held for incomplete input (the unfinished line plus the
   * unfinished event's data): never much more than `maxEventBytes`.
   */
  get bufferedBytes(): number {
    return this.#tailLength + this.#event.bytes;
  }

  /**
   * Whether the framer stands at a line start with nothing held (no partial
   * line, no event open, the first line and any `\r\n` behind it): bytes
   * from here may be read by someone else and the framer fed after them.
   */
  get atBoundary(): boolean {
    return !this.#firstLine && !this.#ended && !this.#skipLF &&
      this.#tailLength === 0 && !this.#discardingLine &&
      this.#event.buf === undefined && !this.#event.oversized;
  }

  /**
   * Events skipped because their data outgrew `maxEventBytes`.
   */
  get oversized(): number {
    return this.#oversizedEvents;
  }

  #resetLine(): void {
    this.#tail = undefined;
    this.#tailLength = 0;
    this.#discardingLine = false;
    this.#event.reset();
  }

  #scan(chunk: Uint8Array): void {
    const length = chunk.length;
    if (length === 0) return;
    let pos = 0;
    if (this.#skipLF) {
      this.#skipLF = false;
      if (chunk[0] === LF) pos = 1;
    }
    while (pos < length) {
      // The next line end: one pass for CR and LF together (two indexOf
      // calls cost more on short lines, and a stream without CR would be
      // searched to its end for one).
      let eol = pos;
      let c = 0;
      while (eol < length) {
        c = chunk[eol];
        if (c === LF || c === CR) break;
        eol++;
      }
      if (eol === length) {
        this.#keep(chunk, pos, length);
        return;
      }
      let next = eol + 1;
      if (c === CR) {
        if (next < length) {
          if (chunk[next] === LF) next++;
        } else {
          this.#skipLF = true;
        }
      }
      if (this.#discardingLine) {
        this.#discardingLine = false;
      } else if (this.#tailLength > 0) {
        this.#keep(chunk, pos, eol);
        if (this.#discardingLine) {
          this.#discardingLine = false;
        } else {
          const tailLength = this.#tailLength;
          this.#tailLength = 0;
          this.#line(this.#tail!, 0, tailLength);
        }
        if (this.#tail !== undefined && this.#tail.length > KEEP_CAPACITY) {
          this.#tail = undefined;
        }
      } else {
        this.#line(chunk, pos, eol);
      }
      pos = next;
    }
  }

  /** Appends `chunk[start..end)` to the incomplete line, within the limit. */
  #keep(chunk: Uint8Array, start: number, end: number): void {
    if (this.#discardingLine || start === end) return;
    const used = this.#tailLength;
    const needed = used + end - start;
    // A line that cannot fit in the event any more: stop keeping it. (A
    // data line would make the event oversized; other lines are ignored.)
    if (needed > this.#maxEventBytes + 3 /* BOM */ - this.#event.bytes) {
      if (this.#overLongLineIsData(chunk, start, end)) this.#event.oversize();
      this.#firstLine = false;
      this.#tailLength = 0;
      if (this.#tail !== undefined && this.#tail.length > KEEP_CAPACITY) {
        this.#tail = undefined;
      }
      this.#discardingLine = true;
      return;
    }
    const tail = growBytes(this.#tail, needed, used);
    this.#tail = tail;
    tail.set(chunk.subarray(start, end), used);
    this.#tailLength = needed;
  }

  /**
   * Whether the over-long incomplete line made of the tail and
   * `chunk[start..end)` is (or, too short to tell, may be) a `data` line, so
   * that dropping it spoils its event. Over-long comments and other fields
   * are dropped silently.
   */
  #overLongLineIsData(chunk: Uint8Array, start: number, end: number): boolean {
    const used = this.#tailLength;
    const tail = this.#tail;
    const length = used + end - start;
    const at = (k: number): number =>
      k < used ? tail![k] : chunk[start + k - used];
    let k = 0;
    if (this.#firstLine && length >= 3 && isBom(at(0), at(1), at(2))) k = 3;
    for (let i = 0; i < 5 && k + i < length; i++) {
      if (at(k + i) !== DATA_FIELD[i]) return false;
    }
    return true;
  }

  /** Handles one complete line `buf[start..end)` (without its line end). */
  #line(buf: Uint8Array, start: number, end: number): void {
    if (this.#firstLine) {
      this.#firstLine = false;
      if (
        end - start >= 3 && isBom(buf[start], buf[start + 1], buf[start + 2])
      ) start += 3;
    }
    if (start === end) {
      this.#dispatch();
      return;
    }
    const event = this.#event;
    if (!isDataLine(buf, start, end) || event.oversized) return;
    const lineBytes = end - start;
    if (event.bytes + lineBytes > this.#maxEventBytes) {
      event.oversize();
      return;
    }
    event.bytes += lineBytes;
    let valueStart = start + 5;
    if (valueStart < end && buf[valueStart] === SPACE) valueStart++;
    if (valueStart > end) valueStart = end;
    // A tail line would be overwritten by the next incomplete line: copy it.
    event.add(buf, valueStart, end, buf === this.#tail);
  }

  /** Ends the current event (at a blank line or at the end of the stream). */
  #dispatch(): void {
    const event = this.#event;
    const { buf, start, end, oversized } = event;
    event.reset();
    if (oversized) {
      this.#oversizedEvents++;
      return;
    }
    if (buf !== undefined) this.#onEvent(buf, start, end);
  }
}
