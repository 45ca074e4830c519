/**
 * Argument checks with one wording: every bad value is named with what was
 * expected ("options.route must be a string or a function, got number 3").
 *
 * @module
 */

/**
 * A short, bounded description of a value for error messages (strings are
 * cut at 80 characters; objects are never serialised).
 *
 * @param value Any value.
 * @returns E.g. `"abc"`, `number 3`, `an array`, `a function`.
 */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value.slice(0, 80));
  if (typeof value === "number" || typeof value === "bigint") {
    return `${typeof value} ${String(value)}`;
  }
  if (typeof value === "function") return "a function";
  if (value instanceof Date) return `Date ${String(value)}`;
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : String(value);
}

/** Whether `value` is a non-null object that is not an array. */
function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Throws a TypeError unless `value` is an object (an options bag).
 *
 * @param value The argument.
 * @param name How to name it, e.g. `"traceHandler(handler, options): options"`.
 */
export function expectObject(value: unknown, name: string): void {
  if (value === null || typeof value !== "object") {
    throw new TypeError(`${name} must be an object, got ${describe(value)}`);
  }
}

/**
 * Throws a TypeError unless `value` is `undefined`, `null` or an object of
 * attribute values (not an array).
 *
 * @param value The argument.
 * @param name How to name it, e.g. `"options.attributes"`.
 */
export function expectAttributesObject(value: unknown, name: string): void {
  if (value === undefined || value === null || isPlainObject(value)) return;
  throw new TypeError(
    `${name} must be an object of attribute values, got ${describe(value)}`,
  );
}

/**
 * Throws a TypeError unless `value` is a function.
 *
 * @param value The argument.
 * @param name How to name it, e.g. `"instrument(fn): fn"`.
 */
export function expectFunction(value: unknown, name: string): void {
  if (typeof value !== "function") {
    throw new TypeError(`${name} must be a function, got ${describe(value)}`);
  }
}

/**
 * Throws a TypeError unless `value` is a string (a non-empty one when
 * `nonEmpty`).
 *
 * @param value The argument.
 * @param name How to name it.
 * @param nonEmpty Whether `""` is refused too.
 */
export function expectString(
  value: unknown,
  name: string,
  nonEmpty = false,
): void {
  if (typeof value !== "string" || (nonEmpty && value === "")) {
    throw new TypeError(
      `${name} must be a ${nonEmpty ? "non-empty " : ""}string, got ${
        describe(value)
      }`,
    );
  }
}
