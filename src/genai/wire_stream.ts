/**
 * What the stream readers of the Responses, Messages and Gemini APIs share:
 * the SSE framer, the counts, and the one decision made per event from its
 * bytes alone (count it, count it as content, or parse it). Only events that
 * may carry ids, model, usage, finish reasons or errors are decoded and
 * parsed; token deltas are counted from a look at their bytes.
 *
 * @module
 */
import { SseFramer } from "./sse.ts";
import { type JsonObject, parseObjectAt } from "./json.ts";
import type { GenAIResponseInfo } from "./openai_response.ts";

/**
 * What a streamed answer said so far, for every wire API: the response
 * fields (as for a JSON answer) plus the stream's own counts.
 */
export interface StreamSummary extends GenAIResponseInfo {
  /** Data events carrying a JSON object. */
  chunks: number;
  /** Events that carried output (text, reasoning, a tool call's arguments). */
  contentChunks: number;
  /** Events whose data was not a JSON object, plus oversized events. */
  errors: number;
}

/** A stream reader of any wire API (see `wire.ts`). */
export interface GenAIStreamReader {
  /** Feeds one chunk; true when it completed the first content event. */
  push(chunk: Uint8Array): boolean;
  /** Ends the stream; true when that completed the first content event. */
  end(): boolean;
  /** The terminal event was seen: a reader stopping here read it all. */
  readonly complete: boolean;
  /** A snapshot of what the stream said so far. */
  readonly info: StreamSummary;
  /** Bytes held for incomplete input. */
  readonly bufferedBytes: number;
}

/** Options of a stream reader. */
export interface StreamReaderOptions {
  /** Keep the output for `gen_ai.output.messages`. Default false. */
  captureContent?: boolean;
  /** The framer's limit per event. Default 1 MiB. */
  maxEventBytes?: number;
}

/** The event only adds to the counts. */
export const COUNT = 0;
/** The event carries output: counted as content (parsed only to capture it). */
export const CONTENT = 1;
/** The event may change the summary: parse it. */
export const PARSE = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const decoder = new TextDecoder();

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Where {@link topLevelType} found the value (reused, read right after). */
export const typeSpan = { start: 0, end: 0 };

const TYPE_PREFIX = [0x7b, QUOTE, 0x74, 0x79, 0x70, 0x65, QUOTE, 0x3a]; // {"type":

/**
 * Finds the string value of the top-level `"type"` key of the JSON object
 * `buf[start..end)` (its bytes, escapes not undone, in {@link typeSpan}).
 * The usual case, `{"type":"…` first, is a prefix check; otherwise one pass
 * over the bytes that tracks strings and nesting (servers that order keys
 * alphabetically put `type` last, after nested objects with their own
 * `type`). False when there is none.
 */
export function topLevelType(
  buf: Uint8Array,
  start: number,
  end: number,
): boolean {
  let i = start;
  let k = 0;
  while (k < TYPE_PREFIX.length && i < end && buf[i] === TYPE_PREFIX[k]) {
    i++;
    k++;
  }
  if (k === TYPE_PREFIX.length) {
    while (i < end && isWs(buf[i])) i++;
    return stringAt(buf, i, end);
  }
  let depth = 0;
  for (i = start; i < end; i++) {
    const c = buf[i];
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === QUOTE) {
      const s = i + 1;
      i = stringEnd(buf, s, end);
      if (i < 0) return false;
      if (
        depth === 1 && i - s === 4 && buf[s] === 0x74 && buf[s + 1] === 0x79 &&
        buf[s + 2] === 0x70 && buf[s + 3] === 0x65
      ) {
        let j = i + 1;
        while (j < end && isWs(buf[j])) j++;
        if (buf[j] !== 0x3a) continue;
        j++;
        while (j < end && isWs(buf[j])) j++;
        return stringAt(buf, j, end);
      }
    }
  }
  return false;
}

/** The index of the closing quote of the string whose content starts at `s`, or -1. */
function stringEnd(buf: Uint8Array, s: number, end: number): number {
  for (let i = s; i < end; i++) {
    const c = buf[i];
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return -1;
}

/** Whether a string starts at `i`; sets {@link typeSpan} to its content. */
function stringAt(buf: Uint8Array, i: number, end: number): boolean {
  if (buf[i] !== QUOTE) return false;
  const e = stringEnd(buf, i + 1, end);
  if (e < 0) return false;
  typeSpan.start = i + 1;
  typeSpan.end = e;
  return true;
}

/** The bytes of {@link typeSpan} as a string (type names are ASCII). */
export function typeString(buf: Uint8Array): string {
  return decoder.decode(buf.subarray(typeSpan.start, typeSpan.end));
}

/**
 * Which of `keys` (up to 31) the JSON `buf[start..end)` holds, at any depth,
 * with a value other than `null`: bit k set for `keys[k]`, in one pass over
 * the bytes. A key is `"<key>"`, JSON whitespace, `:`; inside a JSON string
 * every quote is escaped, so the pattern cannot match text within a value.
 */
export function keyFlags(
  buf: Uint8Array,
  start: number,
  end: number,
  keys: readonly Uint8Array[],
): number {
  let flags = 0;
  for (let i = start; i < end; i++) {
    if (buf[i] !== QUOTE) continue;
    const first = buf[i + 1];
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      if (key[0] !== first || (flags & (1 << k)) !== 0) continue;
      const n = key.length;
      let m = 1;
      while (m < n && buf[i + 1 + m] === key[m]) m++;
      if (m < n || buf[i + 1 + n] !== QUOTE) continue;
      let j = i + n + 2;
      while (j < end && isWs(buf[j])) j++;
      if (buf[j] !== 0x3a) continue;
      j++;
      while (j < end && isWs(buf[j])) j++;
      if (!(buf[j] === 0x6e && buf[j + 1] === 0x75 && buf[j + 2] === 0x6c)) {
        flags |= 1 << k;
      }
      i = j - 1; // on to the value
      break;
    }
  }
  return flags;
}

/**
 * The base of the Responses, Messages and Gemini stream readers: frames the
 * bytes, asks {@link WireStreamReader.classify} about each event, parses only
 * those that may change the summary (and content events while capturing).
 */
export abstract class WireStreamReader implements GenAIStreamReader {
  readonly #framer: SseFramer;
  /** Keep the output for content capture. */
  protected readonly capture: boolean;
  /** What the answer said so far (ids, model, usage, finish reasons, error). */
  protected readonly summary: GenAIResponseInfo = {};
  /** The terminal event was seen. */
  protected done = false;
  #chunks = 0;
  #contentChunks = 0;
  #errors = 0;
  #fed = false;

  /** Creates a reader. */
  constructor(options?: StreamReaderOptions) {
    this.capture = options?.captureContent === true;
    this.#framer = new SseFramer(
      (buf, start, end) => this.#onData(buf, start, end),
      { maxEventBytes: options?.maxEventBytes },
    );
  }

  /** Feeds one chunk; true when it completed the first content event. */
  push(chunk: Uint8Array): boolean {
    const had = this.#contentChunks > 0;
    if (chunk instanceof Uint8Array && chunk.length > 0) this.#fed = true;
    this.#framer.push(chunk);
    return !had && this.#contentChunks > 0;
  }

  /** Ends the stream; true when that completed the first content event. */
  end(): boolean {
    const had = this.#contentChunks > 0;
    this.#framer.end();
    return !had && this.#contentChunks > 0;
  }

  /** The terminal event (or an error) was seen. */
  get complete(): boolean {
    return this.done;
  }

  /** Bytes held for incomplete input. */
  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  /** A snapshot of what the stream said so far (a new object on each read). */
  get info(): StreamSummary {
    const info: StreamSummary = {
      ...this.summary,
      chunks: this.#chunks,
      contentChunks: this.#contentChunks,
      errors: this.#errors + this.#framer.oversized,
    };
    const out = this.capture ? this.output() : undefined;
    if (out !== undefined) info.outputMessages = out;
    return info;
  }

  /**
   * Whether the framer stands between events with nothing held, or has
   * been fed nothing yet: bytes from here are not part of an SSE event.
   */
  protected get betweenEvents(): boolean {
    return this.#framer.atBoundary || !this.#fed;
  }

  /**
   * Reads data that came without SSE framing (`buf[0..end)`) as if it had
   * been one event's data.
   */
  protected readUnframed(buf: Uint8Array, end: number): void {
    this.#onData(buf, 0, end);
  }

  /** Whether the id and model are known (events then may be counted unparsed). */
  protected get identified(): boolean {
    return this.summary.id !== undefined && this.summary.model !== undefined;
  }

  /** What an event is, from its bytes: {@link COUNT}, {@link CONTENT} or {@link PARSE}. */
  protected abstract classify(
    buf: Uint8Array,
    start: number,
    end: number,
  ): number;

  /**
   * Reads one parsed event (`content`: it was classified as content).
   * Returns true when an event classified {@link PARSE} carried output too.
   */
  protected abstract read(event: JsonObject, content: boolean): boolean;

  /** The captured output, in the message-parts schema. */
  protected abstract output(): unknown[] | undefined;

  #onData(buf: Uint8Array, start: number, end: number): void {
    // Only what looks like one JSON object may be counted unparsed: other
    // data is parsed, and counted as an error.
    const kind = buf[start] === 0x7b && buf[end - 1] === 0x7d
      ? this.classify(buf, start, end)
      : PARSE;
    if (kind === CONTENT) this.#contentChunks++;
    if (kind === COUNT || (kind === CONTENT && !this.capture)) {
      this.#chunks++;
      return;
    }
    const value = parseObjectAt(buf, start, end);
    if (value === undefined) {
      this.#errors++;
      return;
    }
    this.#chunks++;
    try {
      if (this.read(value, kind === CONTENT) && kind === PARSE) {
        this.#contentChunks++;
      }
    } catch {
      // only exotic values could throw here; the stream flows on
    }
  }
}
