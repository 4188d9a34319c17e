import { isIP } from 'node:net';
import { parseRequestTarget } from '../http/request-target.js';

/** What the localhost-is-admin rule looks at in a request. */
export interface RequestOrigin {
  remoteAddress: string | undefined;
  /** The request-target as received on the request line (Node's `req.url`, before any rewrite). */
  target: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Headers only a proxy (or someone posing as one) adds: each says the request is relayed on
 * behalf of another client, or was addressed to another host, so the loopback peer proves nothing.
 * Besides these, every `X-Forwarded-*`: `-For` and `-Host` first, and `-Proto`, `-Port`, `-Server`,
 * `-Prefix`, … since none is sent by a client talking to this machine directly.
 */
const proxyHeaders = ['forwarded', 'via', 'x-real-ip'];
const forwardedPrefix = 'x-forwarded-';

function isLoopbackAddress(address: string): boolean {
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}

/**
 * Host header (or a request-target's authority), with an optional port: `localhost`, `127.0.0.1`,
 * `[::1]`. Brackets hold an IPv6 address and nothing else (RFC 3986 §3.2.2): `[localhost]`,
 * `localhost]` and `[127.0.0.1` are no host of this machine.
 */
function isLoopbackHost(host: string): boolean {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::\d+)?$/.exec(host.trim().toLowerCase());
  if (!match) return false;
  const [, bracketed, name] = match;
  if (bracketed !== undefined) return isIP(bracketed) === 6 && isLoopbackAddress(bracketed);
  return name === 'localhost' || isLoopbackAddress(name!);
}

function hasProxyHeader(headers: RequestOrigin['headers']): boolean {
  if (proxyHeaders.some((name) => headers[name] !== undefined)) return true;
  for (const name in headers) if (name.startsWith(forwardedPrefix)) return true;
  return false;
}

/**
 * The request line names this machine too: origin-form (`/who-am-i`) has no host of its own, but
 * absolute-form (`GET http://evil.example/who-am-i`) makes its authority the effective host
 * (RFC 9112 §3.2.2), whatever the Host header says.
 */
function targetsLoopback(target: string): boolean {
  if (target.charCodeAt(0) === 47 /* '/' */) return true;
  const authority = parseRequestTarget(target)?.authority;
  return authority !== undefined && isLoopbackHost(authority);
}

/**
 * A request without a token is admin only when it really comes from this machine and not on
 * behalf of someone else: a loopback peer, no proxy headers, a loopback Host and request-target
 * (defeats DNS rebinding), and no sign of a cross-site browser request.
 */
export function isLocalhostAdminRequest(req: RequestOrigin): boolean {
  if (!req.remoteAddress || !isLoopbackAddress(req.remoteAddress)) return false;
  const h = req.headers;
  if (hasProxyHeader(h)) return false;
  const host = h.host;
  if (typeof host !== 'string' || !isLoopbackHost(host)) return false;
  if (!targetsLoopback(req.target)) return false;
  const fetchSite = h['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') return false;
  const origin = h.origin;
  if (origin !== undefined) {
    if (typeof origin !== 'string') return false;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    if (!isLoopbackHost(url.host) || url.host.toLowerCase() !== host.toLowerCase()) return false;
  }
  return true;
}
