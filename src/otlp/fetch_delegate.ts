/**
 * The official OTLP/HTTP export delegate over `fetch` (from the public
 * subpath `@opentelemetry/otlp-exporter-base/browser-http`: fetch transport,
 * retrying transport with backoff, bounded concurrency, timeout, headers),
 * shared by the span and metric exporters, with one upstream-friendly fix:
 * a refused or reset connection is retried on every runtime.
 *
 * The official fetch transport retries a network error only when fetch
 * rejects with a `TypeError` that has no `cause` (Bun, browsers). Deno and
 * Node reject with `TypeError("fetch failed", { cause })`, so a collector
 * that is down, restarting or resets a connection lost every batch there,
 * against the OTLP specification ("the client SHOULD retry the connection
 * with exponential backoff"). Here the delegate's transport is wrapped so
 * that such a failure is reported as retryable; the retrying itself stays
 * the official code.
 *
 * @module
 */
import { createLegacyOtlpBrowserExportDelegate } from "@opentelemetry/otlp-exporter-base/browser-http";

/** What the official delegate takes as a serializer. */
export type Serializer<T> = Parameters<
  typeof createLegacyOtlpBrowserExportDelegate<T, unknown>
>[1];
/** How the official self-metrics count the items of an export. */
export type ItemCounter<T> = Parameters<
  typeof createLegacyOtlpBrowserExportDelegate<T, unknown>
>[3];
/** The delegate `OTLPExporterBase` wraps. */
export type Delegate<T> = ReturnType<
  typeof createLegacyOtlpBrowserExportDelegate<T, unknown>
>;

/** Where and how one signal is sent. */
export interface DelegateOptions {
  /** The full URL, e.g. `http://127.0.0.1:4318/v1/traces`. */
  url: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Per-export deadline in ms, retries included. @default 10000 */
  timeoutMillis?: number;
}

interface ExportResponse {
  status: "success" | "failure" | "retryable";
  error?: Error;
  retryInMillis?: number;
}
interface Transport {
  send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse>;
  shutdown(): void;
}

/**
 * Whether a failed send is a network error fetch reported with a cause
 * (Deno's and Node's refused, reset or unreachable connections): the
 * transport wraps fetch's `TypeError` as the failure's cause.
 */
function isRetryableNetworkFailure(r: ExportResponse): boolean {
  if (r.status !== "failure") return false;
  const fetchError = r.error?.cause;
  return fetchError instanceof TypeError && fetchError.cause !== undefined;
}

/** `transport`, with network failures that carry a cause made retryable. */
function retryNetworkFailures(transport: Transport): Transport {
  return {
    async send(data, timeoutMillis) {
      const r = await transport.send(data, timeoutMillis);
      return isRetryableNetworkFailure(r)
        ? { status: "retryable", error: r.error }
        : r;
    },
    shutdown: () => transport.shutdown(),
  };
}

/**
 * Creates the official fetch export delegate for `signal` with the network
 * retry fix (see the module doc). If a later version of the delegate no
 * longer has the expected shape, the official delegate is used as is.
 *
 * @param signal `"traces"` or `"metrics"`.
 * @param options See {@link DelegateOptions}.
 * @param serializer Turns a batch into the request body.
 * @param componentType The exporter's `otel.component.type`.
 * @param counter How to count a batch's items for the self-metrics.
 */
export function createFetchDelegate<T>(
  signal: "traces" | "metrics",
  options: DelegateOptions,
  serializer: Serializer<T>,
  componentType: string,
  counter: ItemCounter<T>,
): Delegate<T> {
  const delegate = createLegacyOtlpBrowserExportDelegate<T, unknown>(
    {
      url: options.url,
      headers: options.headers,
      timeoutMillis: options.timeoutMillis,
    },
    serializer,
    componentType,
    counter,
    undefined,
    `v1/${signal}`,
    { "Content-Type": "application/x-protobuf" },
  );
  // The delegate's retrying transport, and the fetch transport under it
  // (fields of the pinned 0.223 release; neither is exported publicly).
  const retrying = (delegate as unknown as { _transport?: unknown })
    ._transport as
      | { _transport?: Transport }
      | undefined;
  const fetchTransport = retrying?._transport;
  if (fetchTransport && typeof fetchTransport.send === "function") {
    retrying!._transport = retryNetworkFailures(fetchTransport);
  }
  return delegate;
}
