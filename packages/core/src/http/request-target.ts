/**
 * The request-target of an HTTP/1.1 request line (RFC 9112 §3.2), as Node hands it over in
 * `req.url`: usually origin-form (`/who-am-i?x=1`), but a client may send absolute-form
 * (`http://host:port/who-am-i`), which every server must accept and whose authority, not the Host
 * header, is then the request's effective host (§3.2.2). fastify's router routes both forms alike,
 * so whatever judges a request by its host must read this authority too.
 */
export interface RequestTarget {
  /** `host[:port]` of an absolute-form target; undefined for origin-form. */
  authority: string | undefined;
  /** The path, without the query string: `/` when an absolute-form target names none. */
  path: string;
}

/** Parses origin-form and http(s) absolute-form; anything else (`*`, another scheme, junk) is undefined. */
export function parseRequestTarget(target: string): RequestTarget | undefined {
  if (target.charCodeAt(0) === 47 /* '/' */) return { authority: undefined, path: beforeQuery(target) };
  // Scanned by hand, not by one regex: a regex over a 16 KiB target can backtrack quadratically.
  const schemeEnd = target.indexOf('://');
  if (schemeEnd === -1) return undefined;
  const scheme = target.slice(0, schemeEnd).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return undefined;
  const start = schemeEnd + 3;
  let end = start;
  while (end < target.length && !'/?#'.includes(target[end]!)) end += 1;
  // A fragment has no place in a request-target (find-my-way refuses it as a bad URL too).
  if (end === start || target.includes('#', start)) return undefined;
  return { authority: target.slice(start, end), path: target[end] === '/' ? beforeQuery(target.slice(end)) : '/' };
}

/** Longest path a log line or an error detail carries: enough to tell routes and resource names apart. */
export const MAX_SHOWN_PATH_CHARS = 256;

/**
 * The part of a request-target that log lines (and 404 details) show: the path only, never the
 * query string (a token or anything else a client puts there) nor an absolute-form authority, and
 * cut to MAX_SHOWN_PATH_CHARS so a 15 KiB URL costs the log no more than a short one.
 */
export function shownPath(target: string): string {
  const path = parseRequestTarget(target)?.path ?? '(not a path)';
  return path.length > MAX_SHOWN_PATH_CHARS ? `${path.slice(0, MAX_SHOWN_PATH_CHARS)}…` : path;
}

function beforeQuery(pathAndQuery: string): string {
  const query = pathAndQuery.indexOf('?');
  return query === -1 ? pathAndQuery : pathAndQuery.slice(0, query);
}
