/**
 * What an OpenAI-compatible stream event's bytes say without decoding or
 * parsing them: whether it may change the answer's summary (a non-null
 * `finish_reason`, `usage` or `error`), and whether it carries content. Most
 * events of a long answer only add a token: those are counted from this
 * scan alone, and only the others are decoded and parsed.
 *
 * A key is matched as `"name"`, optional JSON whitespace, `:`. Inside a JSON
 * string every quote is escaped, so that pattern cannot match text within a
 * value: a string followed by `:` is always a key.
 *
 * @module
 */

const QUOTE = 0x22;
const COLON = 0x3a;

/** The event may change the summary (parse it). */
export const MAY_CHANGE = 1;
/** The event carries content (a token, reasoning, a tool call). */
export const CARRIES_CONTENT = 2;

// What the value of a key must be for it to count.
/** Anything but `null`: MAY_CHANGE. */
const NOT_NULL = 0;
/** A non-empty string: CARRIES_CONTENT. */
const STRING = 1;
/** An object: CARRIES_CONTENT. */
const OBJECT = 2;
/** An array starting with an object: CARRIES_CONTENT. */
const OBJECT_ARRAY = 3;

/** The keys that matter, by their first byte: the key bytes and the want. */
const KEY_BYTES: (Uint8Array[] | undefined)[] = [];
const KEY_WANTS: (number[] | undefined)[] = [];
{
  const enc = new TextEncoder();
  const keys: [string, number][] = [
    ["finish_reason", NOT_NULL],
    ["usage", NOT_NULL],
    ["error", NOT_NULL],
    ["content", STRING],
    ["text", STRING],
    ["reasoning_content", STRING],
    ["reasoning", STRING],
    ["function_call", OBJECT],
    ["tool_calls", OBJECT_ARRAY],
  ];
  for (const [k, want] of keys) {
    const b = enc.encode(k);
    (KEY_BYTES[b[0]] ??= []).push(b);
    (KEY_WANTS[b[0]] ??= []).push(want);
  }
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * If `buf[i..)` is `key"`, whitespace, `:`, whitespace (i just after the
 * opening quote), the index of the value; else -1.
 */
function keyValue(
  buf: Uint8Array,
  i: number,
  end: number,
  key: Uint8Array,
): number {
  const n = key.length;
  if (i + n >= end) return -1;
  for (let k = 1; k < n; k++) if (buf[i + k] !== key[k]) return -1;
  let j = i + n;
  if (buf[j] !== QUOTE) return -1;
  j++;
  while (j < end && isWs(buf[j])) j++;
  if (j >= end || buf[j] !== COLON) return -1;
  j++;
  while (j < end && isWs(buf[j])) j++;
  return j < end ? j : -1;
}

/** Whether the value at `v` is what `want` asks for. */
function valueMatches(
  buf: Uint8Array,
  v: number,
  end: number,
  want: number,
): boolean {
  const c = buf[v];
  switch (want) {
    case NOT_NULL: {
      if (
        c !== 0x6e || v + 4 > end || buf[v + 1] !== 0x75 ||
        buf[v + 2] !== 0x6c || buf[v + 3] !== 0x6c
      ) return true;
      const d = buf[v + 4];
      return !(v + 4 === end || isWs(d) || d === 0x2c || d === 0x7d ||
        d === 0x5d);
    }
    case STRING:
      return c === QUOTE && v + 1 < end && buf[v + 1] !== QUOTE;
    case OBJECT:
      return c === 0x7b;
    default: {
      if (c !== 0x5b) return false;
      let j = v + 1;
      while (j < end && isWs(buf[j])) j++;
      return buf[j] === 0x7b;
    }
  }
}

/**
 * Scans the event data `buf[start..end)`: {@link MAY_CHANGE} and/or
 * {@link CARRIES_CONTENT} (the scan stops at the first MAY_CHANGE).
 *
 * @param buf The bytes.
 * @param start Where the event's data starts.
 * @param end Where it ends.
 * @returns The flags.
 */
export function scanEvent(buf: Uint8Array, start: number, end: number): number {
  let flags = 0;
  for (let i = start; i < end; i++) {
    if (buf[i] !== QUOTE) continue;
    const keys = KEY_BYTES[buf[i + 1]];
    if (keys === undefined) continue;
    const wants = KEY_WANTS[buf[i + 1]]!;
    for (let k = 0; k < keys.length; k++) {
      const v = keyValue(buf, i + 1, end, keys[k]);
      if (v < 0) continue;
      const want = wants[k];
      if (valueMatches(buf, v, end, want)) {
        if (want === NOT_NULL) return flags | MAY_CHANGE;
        flags |= CARRIES_CONTENT;
      }
      i = v - 1; // on to the value
      break;
    }
  }
  return flags;
}

const enc = new TextEncoder();
const FINISH_REASON = enc.encode("finish_reason");
const USAGE = enc.encode("usage");
const ERROR = enc.encode("error");
const CONTENT_KEYS = ["content", "text", "reasoning_content", "reasoning"].map(
  (k) => enc.encode(k),
);
const TOOL_CALLS = enc.encode("tool_calls");
const FUNCTION_CALL = enc.encode("function_call");

/** Whether the key whose closing quote is at `q` is `key` (read backwards). */
function keyIs(buf: Uint8Array, q: number, key: Uint8Array): boolean {
  const n = key.length;
  const s = q - n;
  if (s < 1 || buf[s - 1] !== QUOTE) return false;
  for (let k = 0; k < n; k++) if (buf[s + k] !== key[k]) return false;
  return true;
}

/** What {@link countTokenEvents} found; reused, read right after the call. */
export const counted = { events: 0, content: 0, pos: 0 };

/**
 * The fast path of a stream read: counts the events at `buf[pos..)` that
 * are each one line `data: {…}` followed by a blank line (`\n\n`) and
 * cannot change the summary, in one pass over their bytes (line ends and
 * keys together: a key is found at its closing `":`, then read backwards).
 * It stops at the first line that is anything else (another field, a
 * comment, `\r`, `[DONE]`, a key that may change the summary, an event cut
 * by the chunk's end) and leaves it to the framer: `counted.pos` is where it
 * stopped, at a line start.
 *
 * @param buf The chunk.
 * @param pos Where to start (a line start).
 */
export function countTokenEvents(buf: Uint8Array, pos: number): void {
  const length = buf.length;
  let events = 0;
  let content = 0;
  lines: while (pos + 8 <= length) {
    if (
      buf[pos] !== 0x64 || buf[pos + 1] !== 0x61 || buf[pos + 2] !== 0x74 ||
      buf[pos + 3] !== 0x61 || buf[pos + 4] !== COLON
    ) break;
    let i = pos + 5;
    if (buf[i] === 0x20) i++;
    if (buf[i] !== 0x7b) break; // only JSON objects here
    let carries = false;
    for (; i < length; i++) {
      const c = buf[i];
      if (c > QUOTE) continue;
      if (c === 0x0a) break;
      if (c === 0x0d) break lines; // CR line ends: the framer's
      if (c !== QUOTE) continue;
      // A quote: the end of a key when `:` follows (JSON whitespace between
      // them allowed); the value starts after the colon and any whitespace.
      let v = i + 1;
      if (buf[v] !== COLON) {
        while (v < length && isWs(buf[v])) v++;
        if (buf[v] !== COLON) continue;
      }
      v++;
      while (v < length && isWs(buf[v])) v++;
      switch (buf[i - 1]) {
        case 0x6e: // n: finish_reason
          if (
            keyIs(buf, i, FINISH_REASON) &&
            valueMatches(buf, v, length, NOT_NULL)
          ) break lines;
          break;
        case 0x65: // e: usage
          if (keyIs(buf, i, USAGE) && valueMatches(buf, v, length, NOT_NULL)) {
            break lines;
          }
          break;
        case 0x72: // r: error
          if (keyIs(buf, i, ERROR) && valueMatches(buf, v, length, NOT_NULL)) {
            break lines;
          }
          break;
        case 0x74: // t: content, text, reasoning_content
        case 0x67: // g: reasoning
          if (
            !carries && buf[v] === QUOTE && buf[v + 1] !== QUOTE &&
            (keyIs(buf, i, CONTENT_KEYS[0]) || keyIs(buf, i, CONTENT_KEYS[1]) ||
              keyIs(buf, i, CONTENT_KEYS[2]) || keyIs(buf, i, CONTENT_KEYS[3]))
          ) carries = true;
          break;
        case 0x73: // s: tool_calls
          if (
            keyIs(buf, i, TOOL_CALLS) &&
            valueMatches(buf, v, length, OBJECT_ARRAY)
          ) carries = true;
          break;
        case 0x6c: // l: function_call
          if (
            keyIs(buf, i, FUNCTION_CALL) && valueMatches(buf, v, length, OBJECT)
          ) carries = true;
          break;
      }
    }
    // One line `data: {…}` then a blank line, both within this chunk.
    if (i + 1 >= length || buf[i - 1] !== 0x7d || buf[i + 1] !== 0x0a) break;
    events++;
    if (carries) content++;
    pos = i + 2;
  }
  counted.events = events;
  counted.content = content;
  counted.pos = pos;
}
