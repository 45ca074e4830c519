/**
 * The client's address, from whatever the runtime passes next to the
 * `Request`: Deno's `info.remoteAddr`, Bun's `server.requestIP(req)`, or
 * Cloudflare's `cf-connecting-ip` header.
 *
 * @module
 */

/** Returns the peer address of a served request, if the runtime tells it. */
export function clientAddress(
  req: Request,
  extra: readonly unknown[],
): string | undefined {
  const first = extra[0] as
    | {
      remoteAddr?: { hostname?: unknown };
      requestIP?: (r: Request) => { address?: unknown } | null;
    }
    | undefined;
  try {
    const host = first?.remoteAddr?.hostname;
    if (typeof host === "string") return host;
    if (typeof first?.requestIP === "function") {
      const a = first.requestIP(req)?.address;
      if (typeof a === "string") return a;
    }
  } catch {
    // a runtime object that does not behave as expected: no address
  }
  return req.headers.get("cf-connecting-ip") ?? undefined;
}
