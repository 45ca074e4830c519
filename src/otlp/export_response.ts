/**
 * Decoding of the collector's `ExportTraceServiceResponse` (field numbers
 * from opentelemetry-proto `collector/trace/v1/trace_service.proto`).
 *
 * @module
 */

/**
 * What a collector answers an export with: present only when it accepted
 * part of the request.
 */
export interface ExportTraceServiceResponse {
  /** Set when some spans were rejected. */
  partialSuccess?: {
    /** How many spans were rejected. */
    rejectedSpans?: number;
    /** Why, in the collector's words. */
    errorMessage?: string;
  };
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** A varint as a number (exact below 2^53). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Error("truncated varint");
      const b = this.buf[this.pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new Error("varint longer than 10 bytes");
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new Error("truncated field");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1 || wireType === 5) {
      this.pos += wireType === 1 ? 8 : 4;
      if (this.pos > this.buf.length) throw new Error("truncated field");
    } else throw new Error(`unsupported wire type ${wireType}`);
  }
}

/**
 * Decodes an `ExportTraceServiceResponse`; unknown fields are skipped.
 *
 * @param data The response body.
 * @returns The decoded response (`{}` for an empty body).
 * @throws {Error} on a truncated or malformed message.
 */
export function readExportTraceServiceResponse(
  data: Uint8Array,
): ExportTraceServiceResponse {
  const r = new Reader(data);
  const out: ExportTraceServiceResponse = {};
  while (!r.done()) {
    const tag = r.varint();
    if (tag === 0x0a) {
      const inner = new Reader(r.bytes());
      const ps: NonNullable<ExportTraceServiceResponse["partialSuccess"]> = {};
      while (!inner.done()) {
        const t = inner.varint();
        if (t === 0x08) ps.rejectedSpans = inner.varint();
        else if (t === 0x12) {
          ps.errorMessage = new TextDecoder().decode(inner.bytes());
        } else inner.skip(t & 7);
      }
      out.partialSuccess = ps;
    } else r.skip(tag & 7);
  }
  return out;
}
