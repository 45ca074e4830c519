/**
 * An incremental, never-throwing observer of an OpenAI-compatible
 * server-sent-events stream (`stream: true` chat completions and
 * completions), for proxies that pass the bytes through untouched.
 *
 * @example
 * ```ts
 * import { SseObserver } from "./sse.ts";
 *
 * const observer = new SseObserver();
 * const bytes = new TextEncoder().encode(
 *   'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n',
 * );
 * observer.push(bytes); // true: the first content arrived in this chunk
 * observer.end();
 * console.log(observer.summary.contentChunks, observer.summary.done); // 1 true
 * ```
 *
 * @module
 */

/**
 * What an observed stream said, so far.
 *
 * @example
 * ```ts
 * import { type SseSummary, SseObserver } from "./sse.ts";
 *
 * const observer = new SseObserver();
 * observer.end();
 * const summary: SseSummary = observer.summary;
 * console.log(summary.chunks, summary.done); // 0 false
 * ```
 */
export interface SseSummary {
  /** Number of data events carrying a JSON object (excludes `[DONE]`). */
  chunks: number;
  /**
   * Events in which some choice carried output: a non-empty string
   * `delta.content`, `delta.reasoning_content`, `delta.reasoning` or `text`
   * (completions), a non-empty `delta.tool_calls` array, or a
   * `delta.function_call` object.
   */
  contentChunks: number;
  /** The first `id` seen. */
  id?: string;
  /** The first non-empty `model` seen. */
  model?: string;
  /** The last non-null `finish_reason` of each choice index, in index order. */
  finishReasons: string[];
  /** `usage.prompt_tokens` of the last event that had a `usage` object. */
  inputTokens?: number;
  /** `usage.completion_tokens` of the last event that had a `usage` object. */
  outputTokens?: number;
  /** `usage.prompt_tokens_details.cached_tokens` (or `usage.prompt_cache_hit_tokens`) of the last event that had a `usage` object. */
  cachedInputTokens?: number;
  /** Whether `data: [DONE]` was seen. */
  done: boolean;
  /**
   * Only with `{ captureContent: true }`: the concatenated `delta.content`
   * (or `text`) of each choice, choices in index order; absent if none.
   */
  outputText?: string;
  /**
   * Events whose data was not a JSON object (malformed JSON or another JSON
   * value), plus events skipped for exceeding `maxEventBytes`.
   */
  errors: number;
}

/**
 * Options of {@link SseObserver}.
 *
 * @example
 * ```ts
 * import { type SseObserverOptions, SseObserver } from "./sse.ts";
 *
 * const options: SseObserverOptions = { captureContent: true, maxEventBytes: 64 * 1024 };
 * const observer = new SseObserver(options);
 * ```
 */
export interface SseObserverOptions {
  /** Record the streamed text in {@link SseSummary.outputText}. Default false. */
  captureContent?: boolean;
  /**
   * An event whose `data` lines (field names included) total more bytes
   * than this is skipped and counted in {@link SseSummary.errors}; at most
   * about this many bytes are ever held. Default 1 MiB.
   */
  maxEventBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
/** The bytes of `data:`. */
const DATA_FIELD = [0x64, 0x61, 0x74, 0x61, COLON];
const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
/** Tail buffers bigger than this are released once the line completes. */
const KEEP_TAIL_CAPACITY = 64 * 1024;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function tokenCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0
    ? value
    : undefined;
}

/** Whether `buf[start..end)` begins with the field name `data` ended by `:` or the line end. */
function isDataLine(buf: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  return length >= 4 && buf[start] === 0x64 && buf[start + 1] === 0x61 &&
    buf[start + 2] === 0x74 && buf[start + 3] === 0x61 &&
    (length === 4 || buf[start + 4] === COLON);
}

/**
 * Observes an OpenAI-compatible `text/event-stream` as its chunks pass by,
 * without copying complete events: it scans the bytes for line ends, decodes
 * only the `data` values with one shared `TextDecoder`, parses each event's
 * data once, and keeps just the incomplete last line (bounded by
 * `maxEventBytes`) between chunks.
 *
 * Lines may end with `\n`, `\r\n` or `\r`; a blank line ends an event;
 * lines starting with `:` are comments; fields other than `data` are
 * ignored; a leading BOM is skipped. Events, line ends and multi-byte
 * characters may be split across chunks at any byte.
 *
 * @example
 * ```ts
 * import { SseObserver } from "./sse.ts";
 *
 * const observer = new SseObserver({ captureContent: true });
 * let firstTokenAt: number | undefined;
 * const passThrough = new TransformStream<Uint8Array, Uint8Array>({
 *   transform(chunk, controller) {
 *     if (observer.push(chunk)) firstTokenAt = performance.now();
 *     controller.enqueue(chunk);
 *   },
 *   flush() {
 *     observer.end();
 *   },
 * });
 * const upstream = new Response(
 *   'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"Hello"}}]}\n\n' +
 *     'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
 *     'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1}}\n\n' +
 *     "data: [DONE]\n\n",
 * ).body!;
 * await new Response(upstream.pipeThrough(passThrough)).arrayBuffer();
 * const { outputText, finishReasons, outputTokens } = observer.summary;
 * console.log(outputText, finishReasons, outputTokens, firstTokenAt !== undefined);
 * // "Hello" ["stop"] 1 true
 * ```
 */
export class SseObserver {
  readonly #decoder = new TextDecoder();
  readonly #capture: boolean;
  readonly #maxEventBytes: number;

  // Stream summary.
  #chunks = 0;
  #contentChunks = 0;
  #id: string | undefined;
  #model: string | undefined;
  #finish: Map<number, string> | undefined;
  #inputTokens: number | undefined;
  #outputTokens: number | undefined;
  #cachedInputTokens: number | undefined;
  #done = false;
  #text: Map<number, string> | undefined;
  #errors = 0;

  // Scanner state.
  /** Bytes of the incomplete last line; `#tailLength` of them are in use. */
  #tail: Uint8Array | undefined;
  #tailLength = 0;
  /** The incomplete last line outgrew the limit: drop bytes up to its end. */
  #discardingLine = false;
  /** The previous chunk ended with `\r`: a `\n` starting the next one belongs to it. */
  #skipLF = false;
  /** No line has been completed yet (for the BOM). */
  #firstLine = true;
  /** The current event's data (lines joined with `\n`), if it has any. */
  #data: string | undefined;
  /** Bytes of the current event's data lines so far. */
  #eventBytes = 0;
  /** The current event outgrew the limit: it will be counted as an error. */
  #oversized = false;
  #ended = false;

  /**
   * Creates an observer.
   *
   * @example
   * ```ts
   * import { SseObserver } from "./sse.ts";
   *
   * const observer = new SseObserver({ captureContent: false, maxEventBytes: 1 << 20 });
   * ```
   */
  constructor(options?: SseObserverOptions) {
    this.#capture = options?.captureContent === true;
    const max = options?.maxEventBytes;
    this.#maxEventBytes = typeof max === "number" && max >= 0 && max === max
      ? Math.floor(max)
      : DEFAULT_MAX_EVENT_BYTES;
  }

  /**
   * Feeds one chunk exactly as it passes through the stream. Returns true if
   * this chunk completed the first content-carrying event (so the caller can
   * timestamp time-to-first-token at that moment), false otherwise. An event
   * completes at the blank line that ends it. Never throws; chunks that are
   * not `Uint8Array`s and chunks after {@link SseObserver.end} are ignored.
   *
   * @example
   * ```ts
   * import { SseObserver } from "./sse.ts";
   *
   * const observer = new SseObserver();
   * const encoder = new TextEncoder();
   * observer.push(encoder.encode('data: {"choices":[{"delta":{"content":"Hi"}}]}')); // false: not complete yet
   * observer.push(encoder.encode("\n\n")); // true
   * ```
   */
  push(chunk: Uint8Array): boolean {
    if (this.#ended || !(chunk instanceof Uint8Array)) return false;
    const hadContent = this.#contentChunks > 0;
    try {
      this.#scan(chunk);
    } catch {
      // Not expected; keep the observer usable and the stream flowing.
      this.#resetLine();
    }
    return !hadContent && this.#contentChunks > 0;
  }

  /**
   * Ends the stream: processes a trailing line without its line end and
   * dispatches a final event not followed by a blank line. Later pushes are
   * ignored. Returns true if this completed the first content-carrying
   * event. Never throws.
   *
   * @example
   * ```ts
   * import { SseObserver } from "./sse.ts";
   *
   * const observer = new SseObserver();
   * observer.push(new TextEncoder().encode('data: {"choices":[{"text":"Hi"}]}'));
   * observer.end(); // true
   * console.log(observer.summary.contentChunks); // 1
   * ```
   */
  end(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    const hadContent = this.#contentChunks > 0;
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
      this.#resetLine();
    }
    return !hadContent && this.#contentChunks > 0;
  }

  /**
   * Bytes currently held for incomplete input (the unfinished line plus the
   * unfinished event's data): never much more than `maxEventBytes`.
   *
   * @example
   * ```ts
   * import { SseObserver } from "./sse.ts";
   *
   * const observer = new SseObserver();
   * observer.push(new TextEncoder().encode("data: {"));
   * console.log(observer.bufferedBytes); // 7
   * ```
   */
  get bufferedBytes(): number {
    return this.#tailLength + this.#eventBytes;
  }

  /**
   * A snapshot of what the stream said so far (a new object on each read).
   *
   * @example
   * ```ts
   * import { SseObserver } from "./sse.ts";
   *
   * const observer = new SseObserver();
   * observer.push(new TextEncoder().encode(
   *   'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
   * ));
   * console.log(observer.summary.finishReasons); // ["stop"]
   * ```
   */
  get summary(): SseSummary {
    const summary: SseSummary = {
      chunks: this.#chunks,
      contentChunks: this.#contentChunks,
      finishReasons: [],
      done: this.#done,
      errors: this.#errors,
    };
    if (this.#id !== undefined) summary.id = this.#id;
    if (this.#model !== undefined) summary.model = this.#model;
    const finish = this.#finish;
    if (finish !== undefined) {
      const indexes = [...finish.keys()].sort((a, b) => a - b);
      for (const index of indexes) {
        summary.finishReasons.push(finish.get(index)!);
      }
    }
    if (this.#inputTokens !== undefined) {
      summary.inputTokens = this.#inputTokens;
    }
    if (this.#outputTokens !== undefined) {
      summary.outputTokens = this.#outputTokens;
    }
    if (this.#cachedInputTokens !== undefined) {
      summary.cachedInputTokens = this.#cachedInputTokens;
    }
    const text = this.#text;
    if (text !== undefined) {
      const indexes = [...text.keys()].sort((a, b) => a - b);
      let outputText = "";
      for (const index of indexes) outputText += text.get(index)!;
      summary.outputText = outputText;
    }
    return summary;
  }

  #resetLine(): void {
    this.#tail = undefined;
    this.#tailLength = 0;
    this.#discardingLine = false;
    this.#data = undefined;
    this.#eventBytes = 0;
    this.#oversized = false;
  }

  #scan(chunk: Uint8Array): void {
    const length = chunk.length;
    if (length === 0) return;
    let pos = 0;
    if (this.#skipLF) {
      this.#skipLF = false;
      if (chunk[0] === LF) pos = 1;
    }
    // Next CR and LF at or after `pos` (-1: none left), each found once.
    let cr = chunk.indexOf(CR, pos);
    let lf = chunk.indexOf(LF, pos);
    while (pos < length) {
      if (cr !== -1 && cr < pos) cr = chunk.indexOf(CR, pos);
      if (lf !== -1 && lf < pos) lf = chunk.indexOf(LF, pos);
      let eol: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        eol = cr;
        if (cr + 1 < length) {
          next = chunk[cr + 1] === LF ? cr + 2 : cr + 1;
        } else {
          next = length;
          this.#skipLF = true;
        }
      } else if (lf !== -1) {
        eol = lf;
        next = lf + 1;
      } else {
        this.#keep(chunk, pos, length);
        return;
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
        if (
          this.#tail !== undefined && this.#tail.length > KEEP_TAIL_CAPACITY
        ) {
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
    if (needed > this.#maxEventBytes + 3 /* BOM */ - this.#eventBytes) {
      if (this.#overLongLineIsData(chunk, start, end)) this.#oversize();
      this.#firstLine = false;
      this.#tailLength = 0;
      if (this.#tail !== undefined && this.#tail.length > KEEP_TAIL_CAPACITY) {
        this.#tail = undefined;
      }
      this.#discardingLine = true;
      return;
    }
    let tail = this.#tail;
    if (tail === undefined || tail.length < needed) {
      let capacity = tail === undefined ? 256 : tail.length * 2;
      while (capacity < needed) capacity *= 2;
      const grown = new Uint8Array(capacity);
      if (used > 0) grown.set(tail!.subarray(0, used));
      this.#tail = tail = grown;
    }
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
    if (
      this.#firstLine && length >= 3 && at(0) === 0xef && at(1) === 0xbb &&
      at(2) === 0xbf
    ) k = 3;
    for (let i = 0; i < 5 && k + i < length; i++) {
      if (at(k + i) !== DATA_FIELD[i]) return false;
    }
    return true;
  }

  #oversize(): void {
    this.#oversized = true;
    this.#data = undefined;
    this.#eventBytes = 0;
  }

  /** Handles one complete line `buf[start..end)` (without its line end). */
  #line(buf: Uint8Array, start: number, end: number): void {
    if (this.#firstLine) {
      this.#firstLine = false;
      if (
        end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb &&
        buf[start + 2] === 0xbf
      ) start += 3;
    }
    if (start === end) {
      this.#dispatch();
      return;
    }
    if (!isDataLine(buf, start, end) || this.#oversized) return;
    const lineBytes = end - start;
    if (this.#eventBytes + lineBytes > this.#maxEventBytes) {
      this.#oversize();
      return;
    }
    this.#eventBytes += lineBytes;
    let valueStart = start + 5;
    if (valueStart < end && buf[valueStart] === SPACE) valueStart++;
    const value = valueStart >= end
      ? ""
      : this.#decoder.decode(buf.subarray(valueStart, end));
    this.#data = this.#data === undefined ? value : this.#data + "\n" + value;
  }

  /** Ends the current event (at a blank line or at the end of the stream). */
  #dispatch(): void {
    const data = this.#data;
    const oversized = this.#oversized;
    this.#data = undefined;
    this.#eventBytes = 0;
    this.#oversized = false;
    if (oversized) {
      this.#errors++;
      return;
    }
    if (data === undefined) return;
    if (data.length < 16 && data.trim() === "[DONE]") {
      this.#done = true;
      return;
    }
    // Fast path: once id, model and the first content are known (and text is
    // not captured), an event whose finish_reason, usage and error are null
    // or absent can only change the counts: skip JSON.parse. This is most
    // events of a long answer.
    if (
      !this.#capture && this.#contentChunks > 0 && this.#id !== undefined &&
      this.#model !== undefined && data.charCodeAt(0) === 123 /* { */ &&
      data.charCodeAt(data.length - 1) === 125 /* } */ &&
      !MAY_CHANGE_SUMMARY.test(data)
    ) {
      this.#chunks++;
      if (CARRIES_CONTENT.test(data)) this.#contentChunks++;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      this.#errors++;
      return;
    }
    if (!isObject(value)) {
      this.#errors++;
      return;
    }
    this.#chunks++;
    this.#event(value);
  }

  /** Reads one parsed event. */
  #event(event: JsonObject): void {
    if (this.#id === undefined && typeof event.id === "string") {
      this.#id = event.id;
    }
    if (
      this.#model === undefined && typeof event.model === "string" &&
      event.model.length > 0
    ) this.#model = event.model;
    const choices = event.choices;
    if (Array.isArray(choices)) {
      let content = false;
      for (let i = 0; i < choices.length; i++) {
        const choice = choices[i];
        if (!isObject(choice)) continue;
        const rawIndex = choice.index;
        const index = typeof rawIndex === "number" &&
            Number.isSafeInteger(rawIndex) && rawIndex >= 0
          ? rawIndex
          : i;
        const finish = choice.finish_reason;
        if (typeof finish === "string") {
          (this.#finish ??= new Map()).set(index, finish);
        }
        let text: string | undefined;
        const delta = choice.delta;
        if (isObject(delta)) {
          const deltaContent = delta.content;
          if (typeof deltaContent === "string" && deltaContent.length > 0) {
            content = true;
            text = deltaContent;
          } else if (
            nonEmptyString(delta.reasoning_content) ||
            nonEmptyString(delta.reasoning) ||
            (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) ||
            isObject(delta.function_call)
          ) content = true;
        }
        const choiceText = choice.text;
        if (typeof choiceText === "string" && choiceText.length > 0) {
          content = true;
          text = text === undefined ? choiceText : text + choiceText;
        }
        if (this.#capture && text !== undefined) {
          const texts = this.#text ??= new Map();
          const previous = texts.get(index);
          texts.set(index, previous === undefined ? text : previous + text);
        }
      }
      if (content) this.#contentChunks++;
    }
    const usage = event.usage;
    if (isObject(usage)) {
      const input = tokenCount(usage.prompt_tokens);
      if (input !== undefined) this.#inputTokens = input;
      const output = tokenCount(usage.completion_tokens);
      if (output !== undefined) this.#outputTokens = output;
      const details = usage.prompt_tokens_details;
      const cached =
        (isObject(details) ? tokenCount(details.cached_tokens) : undefined) ??
          tokenCount(usage.prompt_cache_hit_tokens);
      if (cached !== undefined) this.#cachedInputTokens = cached;
    }
  }
}

function nonEmptyString(value: unknown): boolean {
  return typeof value === "string" && value.length > 0;
}

/**
 * Whether an event's JSON text carries content: a non-empty `content`,
 * `text`, `reasoning_content` or `reasoning` string, or tool/function calls.
 * Quotes inside JSON strings are escaped, so a key pattern cannot match text
 * within a value.
 */
const CARRIES_CONTENT =
  /"(?:content|text|reasoning_content|reasoning)"\s*:\s*"[^"]|"tool_calls"\s*:\s*\[\s*\{|"function_call"\s*:\s*\{/;

/**
 * Whether an event's JSON text has a `finish_reason`, `usage` or `error` key
 * whose value is anything but `null` (one regular-expression scan: in V8 this
 * is a third of the cost of three `indexOf` walks). JSON whitespace is
 * space, tab, CR and LF; a key pattern cannot match inside a string value,
 * where quotes are escaped.
 */
const MAY_CHANGE_SUMMARY =
  /"(?:finish_reason|usage|error)"[ \t\r\n]*:[ \t\r\n]*(?!null[ \t\r\n]*[,}\]])/;
