/**
 * The parts of a request URL a span needs, read straight from the string
 * (`new URL()` per request is measurably slow on a hot path).
 *
 * @module
 */

/** The pieces of an absolute URL llmtrace records. */
export interface UrlParts {
  /** `http` or `https`, without the colon. */
  scheme: string;
  /** The host name, without brackets for IPv6. */
  host: string;
  /** The port: explicit, or the scheme's default. */
  port: number | undefined;
  /** The path, always starting with `/`. */
  path: string;
  /** The query without `?`, or `undefined`. */
  query: string | undefined;
}

/**
 * Splits an absolute URL. Falls back to `new URL()` for anything unusual
 * (user info, no `://`), and never throws.
 */
export function urlParts(url: string): UrlParts {
  const se = url.indexOf("://");
  if (se > 0) {
    const scheme = url.slice(0, se).toLowerCase();
    const authStart = se + 3;
    let pathStart = authStart;
    const len = url.length;
    while (pathStart < len) {
      const c = url.charCodeAt(pathStart);
      if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
      if (c === 64 /* @ */) return slow(url);
      pathStart++;
    }
    const authority = url.slice(authStart, pathStart);
    let host = authority;
    let port: number | undefined;
    const close = authority.lastIndexOf("]");
    const colon = authority.lastIndexOf(":");
    if (colon > close) {
      host = authority.slice(0, colon);
      const p = Number(authority.slice(colon + 1));
      port = Number.isInteger(p) && p > 0 ? p : undefined;
    }
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
    port ??= scheme === "https" ? 443 : scheme === "http" ? 80 : undefined;
    let path = "/";
    let query: string | undefined;
    if (pathStart < len && url.charCodeAt(pathStart) === 47) {
      let end = pathStart;
      while (end < len) {
        const c = url.charCodeAt(end);
        if (c === 63 || c === 35) break;
        end++;
      }
      path = url.slice(pathStart, end);
      pathStart = end;
    }
    if (pathStart < len && url.charCodeAt(pathStart) === 63) {
      const hash = url.indexOf("#", pathStart);
      query = url.slice(pathStart + 1, hash < 0 ? len : hash);
    }
    return { scheme, host: host.toLowerCase(), port, path, query };
  }
  return slow(url);
}

function slow(url: string): UrlParts {
  try {
    const u = new URL(url);
    const scheme = u.protocol.replace(/:$/, "");
    const host = u.hostname.replace(/^\[|\]$/g, "");
    const port = u.port
      ? Number(u.port)
      : scheme === "https"
      ? 443
      : scheme === "http"
      ? 80
      : undefined;
    return {
      scheme,
      host,
      port,
      path: u.pathname || "/",
      query: u.search ? u.search.slice(1) : undefined,
    };
  } catch {
    return {
      scheme: "",
      host: "",
      port: undefined,
      path: "/",
      query: undefined,
    };
  }
}
