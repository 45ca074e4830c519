/**
 * One way to mark a span as failed: exception event, ERROR status with the
 * message, and `error.type`.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import { STATUS_ERROR } from "./api.ts";
import { ERROR_TYPE } from "./keys.ts";
import { boundValue } from "./limits.ts";
import { nowHrTime } from "./time.ts";

/** How {@link recordError} describes the failure. */
export interface RecordErrorOptions {
  /** Add an exception event. @default true */
  recordException?: boolean;
  /** `error.type` when `err` is not an Error. @default "_OTHER" */
  fallbackType?: string;
  /** Put before the status message, e.g. "response body failed: ". */
  messagePrefix?: string;
}

/**
 * Records `err` on `span`: an exception event (unless disabled), ERROR status
 * with the error's message, and `error.type` (the Error's name). Never throws.
 */
export function recordError(
  span: Span,
  err: unknown,
  options: RecordErrorOptions = {},
): void {
  try {
    const isError = err instanceof Error;
    if (options.recordException !== false) {
      // On llmtrace's clock, as the span's start and end.
      span.recordException(
        isError ? err : { message: String(err), name: "Error" },
        nowHrTime(),
      );
    }
    span.setStatus({
      code: STATUS_ERROR,
      message: boundValue(
        (options.messagePrefix ?? "") + (isError ? err.message : String(err)),
      ),
    });
    span.setAttribute(
      ERROR_TYPE,
      isError ? err.name || "Error" : options.fallbackType ?? "_OTHER",
    );
  } catch {
    // a span that refuses attributes must not turn into the app's error
  }
}
