import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * HTTP over node:http rather than fetch: hostile tests need headers fetch refuses or rewrites
 * (Host, two Authorization values, raw bytes), and an exact view of what was sent.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: jsonOrUndefined(text) });
      });
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** JSON body with an admin (or other) bearer token. */
export function jsonRequest(method: string, url: string, body: unknown, token?: string): Promise<RawResponse> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return rawRequest(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: text,
  });
}

/**
 * One request written byte for byte on a fresh TCP connection: for request lines node:http will
 * not send (absolute-form `GET http://host/path HTTP/1.1`). `head` is the request line and header
 * lines without the blank line that ends them; the connection is closed after the answer.
 */
export function rawSocketRequest(port: number, head: string[], body = ''): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const lines = [...head, 'Connection: close', ...(body === '' ? [] : [`Content-Length: ${Buffer.byteLength(body)}`])];
      socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const split = raw.indexOf('\r\n\r\n');
      const [statusLine = '', ...headerLines] = raw.slice(0, split === -1 ? raw.length : split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const text = split === -1 ? '' : raw.slice(split + 4);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, text, json: jsonOrUndefined(text) });
    });
  });
}

/**
 * Many requests pipelined on one TCP connection from `localAddress` (any 127/8 address is this
 * machine, so one test can be many clients), written at once as a flooding client would. Each
 * request is head lines without the blank line; the last is sent with `Connection: close`.
 * Resolves with the status of every answer, in order.
 */
export function pipelinedRequests(port: number, localAddress: string, requests: { head: string[]; body?: string }[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const wire = requests.map(({ head, body = '' }, i) => {
      const lines = [...head, ...(i === requests.length - 1 ? ['Connection: close'] : []), ...(body === '' ? [] : [`Content-Length: ${Buffer.byteLength(body)}`])];
      return `${lines.join('\r\n')}\r\n\r\n${body}`;
    });
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => socket.end(wire.join('')));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve([...Buffer.concat(chunks).toString('utf8').matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))));
  });
}
