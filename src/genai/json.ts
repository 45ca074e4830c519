/**
 * Small, never-throwing readers of parsed JSON values, shared by the OpenAI
 * request, response and stream readers.
 *
 * @module
 */

/** A parsed JSON object. @internal */
export type JsonObject = Record<string, unknown>;

/** Whether a parsed JSON value is an object (not null, not an array). @internal */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A finite number, else `undefined`. */
export function finiteNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value)
    ? value
    : undefined;
}

/** An integer, else `undefined`. */
export function integer(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value)
    ? value
    : undefined;
}

/** A token count: a non-negative safe integer, else `undefined`. */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0
    ? value
    : undefined;
}

const decoder = new TextDecoder();

/**
 * Decodes (UTF-8, invalid bytes replaced) and parses a body; `undefined`
 * unless it is a JSON object.
 */
export function parseJsonObject(
  bytes: Uint8Array | string,
): JsonObject | undefined {
  const value = parseJson(bytes);
  return isObject(value) ? value : undefined;
}

/**
 * Decodes (UTF-8, invalid bytes replaced) and parses a body: any JSON value,
 * `undefined` when it is not JSON.
 */
export function parseJson(bytes: Uint8Array | string): unknown {
  let text: string;
  if (typeof bytes === "string") text = bytes;
  else if (bytes instanceof Uint8Array) text = decoder.decode(bytes);
  else return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Decodes and parses one event's data `buf[start..end)`: the object, or
 * `undefined` when it is not a JSON object.
 */
export function parseObjectAt(
  buf: Uint8Array,
  start: number,
  end: number,
): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(buf.subarray(start, end)));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The strings of an array, `undefined` when there are none. */
export function stringArray(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out = value.filter((v): v is string => typeof v === "string");
  return out.length > 0 ? out : undefined;
}
