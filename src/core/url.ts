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
  if (se <= 0) return slow(url);
  // Native string searches: a request's URL is short, and a loop over its
  // char codes costs more than these (most of the time is in the path).
  const scheme = se === 4 && url.startsWith("http")
    ? "http"
    : se === 5 && url.startsWith("https")
    ? "https"
    : url.slice(0, se).toLowerCase();
  const authStart = se + 3;
  const len = url.length;
  const slash = url.indexOf("/", authStart);
  const question = url.indexOf("?", authStart);
  const hashAt = url.indexOf("#", authStart);
  let authEnd = slash < 0 ? len : slash;
  if (question >= 0 && question < authEnd) authEnd = question;
  if (hashAt >= 0 && hashAt < authEnd) authEnd = hashAt;
  const authority = url.slice(authStart, authEnd);
  if (authority.includes("@")) return slow(url); // user info
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
  // The path ends at the query or the fragment, whichever comes first.
  let pathEnd = len;
  if (question > authEnd || (question === authEnd && question >= 0)) {
    pathEnd = question;
  }
  if (hashAt >= authEnd && hashAt < pathEnd) pathEnd = hashAt;
  const path = authEnd === slash ? url.slice(authEnd, pathEnd) : "/";
  let query: string | undefined;
  if (question >= 0 && question === pathEnd) {
    query = url.slice(question + 1, hashAt > question ? hashAt : len);
  }
  return { scheme, host: host.toLowerCase(), port, path, query };
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

/**
 * Query parameters whose values are credentials or signatures: the HTTP
 * semantic conventions' list (`AWSAccessKeyId`, `Signature`, `sig`,
 * `X-Goog-Signature`) and the usual names of keys and tokens. Compared
 * case-insensitively, `-` and `_` alike.
 */
const CREDENTIAL_PARAMS = new Set([
  "awsaccesskeyid",
  "signature",
  "sig",
  "x-goog-signature",
  "x-goog-credential",
  "x-amz-signature",
  "x-amz-credential",
  "x-amz-security-token",
  "api-key",
  "apikey",
  "key",
  "token",
  "access-token",
  "refresh-token",
  "id-token",
  "auth",
  "authorization",
  "password",
  "passwd",
  "secret",
  "client-secret",
  "session",
  "sessionid",
  "code",
]);

/**
 * A query string (without `?`) with the values of credential-looking
 * parameters replaced by `REDACTED`, as the HTTP semantic conventions ask of
 * `url.query`; everything else is kept as sent (still percent-encoded).
 *
 * @param query The raw query.
 * @returns The query to record.
 */
export function redactQuery(query: string): string {
  if (query === "") return query;
  let changed = false;
  const parts = query.split("&");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    let name = part.slice(0, eq);
    try {
      name = decodeURIComponent(name.replace(/\+/g, " "));
    } catch {
      // a malformed escape: compare the raw name
    }
    if (CREDENTIAL_PARAMS.has(name.trim().toLowerCase().replace(/_/g, "-"))) {
      parts[i] = `${part.slice(0, eq)}=REDACTED`;
      changed = true;
    }
  }
  return changed ? parts.join("&") : query;
}
