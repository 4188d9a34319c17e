import { isIP } from 'node:net';

/** What the localhost-is-admin rule looks at in a request. */
export interface RequestOrigin {
  remoteAddress: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

const proxyHeaders = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

function isLoopbackAddress(address: string): boolean {
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}

/** Host header without port: `localhost`, `127.0.0.1`, `[::1]`. */
function isLoopbackHost(host: string): boolean {
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host.trim().toLowerCase());
  if (!match) return false;
  const name = match[1]!.replace(/^\[|\]$/g, '');
  return name === 'localhost' || isLoopbackAddress(name);
}

/**
 * A request without a token is admin only when it really comes from this machine and not on
 * behalf of someone else: a loopback peer, no proxy headers, a loopback Host (defeats DNS
 * rebinding), and no sign of a cross-site browser request.
 */
export function isLocalhostAdminRequest(req: RequestOrigin): boolean {
  if (!req.remoteAddress || !isLoopbackAddress(req.remoteAddress)) return false;
  const h = req.headers;
  if (proxyHeaders.some((name) => h[name] !== undefined)) return false;
  const host = h.host;
  if (typeof host !== 'string' || !isLoopbackHost(host)) return false;
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
