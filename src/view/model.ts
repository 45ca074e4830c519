/**
 * The viewer's span: one OTLP span as decoded from protobuf or JSON, with its
 * resource and scope, in one shape whichever encoding it came in.
 *
 * @module
 */

/**
 * An OTLP `AnyValue`. Integers are `number` when they fit a safe integer,
 * else `bigint`; bytes are a `Uint8Array`; an `AnyValue` with no value set is
 * `null`.
 */
export type AttrValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | AttrValue[]
  | { [key: string]: AttrValue };

/** Attributes by key (a repeated key keeps its last value, as OTLP says). */
export type Attributes = Record<string, AttrValue>;

/** One span as received. */
export interface ViewSpan {
  traceId: string;
  spanId: string;
  /** `undefined` for a root span. */
  parentSpanId: string | undefined;
  traceState: string;
  flags: number;
  name: string;
  /** 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  events: { name: string; timeUnixNano: bigint; attributes: Attributes }[];
  links: {
    traceId: string;
    spanId: string;
    traceState: string;
    attributes: Attributes;
  }[];
  /** code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  resource: Attributes;
  scope: { name: string; version: string };
}

/** Malformed OTLP: the message says what was wrong and where. */
export class OtlpDecodeError extends Error {
  override name = "OtlpDecodeError";
}

/** Lower-case hex of bytes (OTLP ids). */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}
