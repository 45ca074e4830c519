/**
 * Reads an OpenAI-compatible streamed answer (`stream: true` chat
 * completions and completions) as its bytes pass through a proxy: built on
 * the SSE framer, it tells when the first content arrives and sums up ids,
 * model, finish reasons and usage. Never throws.
 *
 * @module
 */
import { SseFramer } from "./sse.ts";
import { StreamedChoice } from "./openai_content.ts";
import {
  CARRIES_CONTENT,
  counted,
  countTokenEvents,
  MAY_CHANGE,
  scanEvent,
} from "./event_scan.ts";
import {
  choiceIndex,
  type GenAIResponseInfo,
  readUsage,
  type UsageInfo,
} from "./openai_response.ts";
import { isObject, type JsonObject, parseObjectAt } from "./json.ts";

/**
 * What a streamed answer said so far: the response fields (as for a JSON
 * answer) plus the stream's own counts.
 */
export interface StreamInfo
  extends Omit<GenAIResponseInfo, "finishReasons" | "choiceCount"> {
  /** Number of data events carrying a JSON object (excludes `[DONE]`). */
  chunks: number;
  /**
   * Events in which some choice carried output: a non-empty string
   * `delta.content`, `delta.reasoning_content`, `delta.reasoning` or `text`
   * (completions), a non-empty `delta.tool_calls` array, or a
   * `delta.function_call` object.
   */
  contentChunks: number;
  /** The last non-null `finish_reason` of each choice index, in index order. */
  finishReasons: string[];
  /** Whether `data: [DONE]` was seen. */
  done: boolean;
  /**
   * Events whose data was not a JSON object (malformed JSON or another JSON
   * value), plus events skipped for exceeding `maxEventBytes`.
   */
  errors: number;
}

/**
 * Options of {@link OpenAIStreamReader}.
 */
export interface OpenAIStreamReaderOptions {
  /** Record the streamed text in {@link StreamInfo.outputText}. Default false. */
  captureContent?: boolean;
  /** The framer's limit per event (see `SseFramerOptions`). Default 1 MiB. */
  maxEventBytes?: number;
}

function nonEmptyString(value: unknown): boolean {
  return typeof value === "string" && value.length > 0;
}

/**
 * Reads an OpenAI-compatible `text/event-stream` chunk by chunk, parsing
 * each event's data at most once (and not at all for events that can only
 * change the counts once id, model and the first content are known).
 */
export class OpenAIStreamReader {
  readonly #framer: SseFramer;
  readonly #capture: boolean;
  #chunks = 0;
  #contentChunks = 0;
  #id: string | undefined;
  #model: string | undefined;
  #finish: Map<number, string> | undefined;
  #usage: UsageInfo = {};
  #done = false;
  #text: Map<number, string> | undefined;
  /** Each choice's output so far, when content is captured. */
  #out: Map<number, StreamedChoice> | undefined;
  #errors = 0;

  /**
   * Creates a reader.
   */
  constructor(options?: OpenAIStreamReaderOptions) {
    this.#capture = options?.captureContent === true;
    this.#framer = new SseFramer(
      (buf, start, end) => this.#onData(buf, start, end),
      {
        maxEventBytes: options?.maxEventBytes,
      },
    );
  }

  /**
   * Feeds one chunk exactly as it passes through. Returns true if this chunk
   * completed the first content-carrying event (so the caller can timestamp
   * time to first token at that moment). Never throws.
   */
  push(chunk: Uint8Array): boolean {
    const hadContent = this.#contentChunks > 0;
    if (
      hadContent && !this.#capture && this.#id !== undefined &&
      this.#model !== undefined && chunk instanceof Uint8Array &&
      this.#framer.atBoundary
    ) {
      // Counting mode: plain token events are counted in one pass over
      // their bytes; the framer gets what is left (if anything).
      countTokenEvents(chunk, 0);
      this.#chunks += counted.events;
      this.#contentChunks += counted.content;
      if (counted.pos === chunk.length) return false;
      if (counted.pos > 0) chunk = chunk.subarray(counted.pos);
    }
    this.#framer.push(chunk);
    return !hadContent && this.#contentChunks > 0;
  }

  /**
   * Ends the stream (a final event without its blank line still counts).
   * Returns true if this completed the first content-carrying event.
   */
  end(): boolean {
    const hadContent = this.#contentChunks > 0;
    this.#framer.end();
    return !hadContent && this.#contentChunks > 0;
  }

  /**
   * Bytes held for incomplete input: never much more than `maxEventBytes`.
   */
  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  /**
   * Whether the answer is complete: `data: [DONE]` was seen, or a finish
   * reason and the usage (the last events of a stream with
   * `include_usage`). A reader that stops here (the `openai` client cancels
   * the body after `[DONE]`) has read the whole answer.
   */
  get complete(): boolean {
    return this.#done ||
      (this.#finish !== undefined && this.#usage.outputTokens !== undefined);
  }

  /**
   * A snapshot of what the stream said so far (a new object on each read).
   */
  get info(): StreamInfo {
    const info: StreamInfo = {
      chunks: this.#chunks,
      contentChunks: this.#contentChunks,
      finishReasons: inIndexOrder(this.#finish),
      done: this.#done,
      errors: this.#errors + this.#framer.oversized,
      ...this.#usage,
    };
    if (this.#id !== undefined) info.id = this.#id;
    if (this.#model !== undefined) info.model = this.#model;
    if (this.#text !== undefined) {
      info.outputText = inIndexOrder(this.#text).join("");
    }
    const out = this.#out;
    if (out !== undefined) {
      info.outputMessages = [...out.keys()].sort((a, b) => a - b).map((k) =>
        out.get(k)!.message()
      );
    }
    return info;
  }

  /** One event's data, as the framer delivers it. */
  #onData(buf: Uint8Array, start: number, end: number): void {
    if (end - start < 16 && isDone(buf, start, end)) {
      this.#done = true;
      return;
    }
    // Fast path: once id, model and the first content are known (and text is
    // not captured), an event whose finish_reason, usage and error are null
    // or absent can only change the counts: a scan of its bytes, no decoding
    // and no JSON.parse. This is most events of a long answer.
    if (
      !this.#capture && this.#contentChunks > 0 && this.#id !== undefined &&
      this.#model !== undefined && buf[start] === 0x7b /* { */ &&
      buf[end - 1] === 0x7d /* } */
    ) {
      const flags = scanEvent(buf, start, end);
      if ((flags & MAY_CHANGE) === 0) {
        this.#chunks++;
        if (flags & CARRIES_CONTENT) this.#contentChunks++;
        return;
      }
    }
    const value = parseObjectAt(buf, start, end);
    if (value === undefined) {
      this.#errors++;
      return;
    }
    this.#chunks++;
    try {
      this.#event(value);
    } catch {
      // only exotic values could throw here; the stream flows on
    }
  }

  /** Reads one parsed event. */
  #event(event: JsonObject): void {
    if (this.#id === undefined && typeof event.id === "string") {
      this.#id = event.id;
    }
    if (this.#model === undefined && nonEmptyString(event.model)) {
      this.#model = event.model as string;
    }
    const choices = event.choices;
    if (Array.isArray(choices)) {
      let content = false;
      for (let i = 0; i < choices.length; i++) {
        const choice = choices[i];
        if (!isObject(choice)) continue;
        const index = choiceIndex(choice, i);
        const finish = choice.finish_reason;
        if (typeof finish === "string") {
          (this.#finish ??= new Map()).set(index, finish);
        }
        let text: string | undefined;
        const delta = choice.delta;
        if (isObject(delta)) {
          if (nonEmptyString(delta.content)) {
            content = true;
            text = delta.content as string;
          } else if (
            nonEmptyString(delta.reasoning_content) ||
            nonEmptyString(delta.reasoning) ||
            (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) ||
            isObject(delta.function_call)
          ) content = true;
        }
        if (nonEmptyString(choice.text)) {
          content = true;
          text = text === undefined
            ? choice.text as string
            : text + choice.text;
        }
        if (this.#capture) {
          if (text !== undefined) {
            const texts = this.#text ??= new Map();
            texts.set(index, (texts.get(index) ?? "") + text);
          }
          const out = this.#out ??= new Map();
          let c = out.get(index);
          if (!c) out.set(index, c = new StreamedChoice());
          c.add(isObject(delta) ? delta : undefined, choice.text);
        }
      }
      if (content) this.#contentChunks++;
    }
    readUsage(event.usage, this.#usage);
  }
}

/** Whether `buf[start..end)` is `[DONE]`, JSON whitespace around it allowed. */
function isDone(buf: Uint8Array, start: number, end: number): boolean {
  while (start < end && (buf[start] === 0x20 || buf[start] === 0x09)) start++;
  while (
    end > start &&
    (buf[end - 1] === 0x20 || buf[end - 1] === 0x09 || buf[end - 1] === 0x0a ||
      buf[end - 1] === 0x0d)
  ) end--;
  return end - start === 6 && buf[start] === 0x5b && buf[start + 1] === 0x44 &&
    buf[start + 2] === 0x4f && buf[start + 3] === 0x4e &&
    buf[start + 4] === 0x45 && buf[start + 5] === 0x5d;
}

/** The map's values ordered by key. */
function inIndexOrder(map: Map<number, string> | undefined): string[] {
  if (map === undefined) return [];
  return [...map.keys()].sort((a, b) => a - b).map((k) => map.get(k)!);
}
