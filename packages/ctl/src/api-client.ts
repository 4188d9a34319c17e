import * as http from 'node:http';
import * as https from 'node:https';
import { ConnectionError, ResponseError } from './errors.js';
import { apiErrorFrom } from './problem.js';
import { describeTransportError } from './transport-errors.js';

export interface ApiClientOptions {
  /** Base address of the API server, e.g. `http://localhost:5681`. */
  url: string;
  /** User token sent as `Authorization: Bearer …` unless a request says otherwise. */
  token?: string;
  /** Only used for https:// addresses. */
  tls?: { cert?: Buffer; key?: Buffer; ca?: Buffer; rejectUnauthorized: boolean };
  /** Give up on a silent server after this long. Default 60 s, like kumactl's --api-timeout. */
  timeoutMs?: number;
  /** Refuse larger answers. Default 1 MiB, the servers' own body limit. */
  maxResponseBytes?: number;
  userAgent?: string;
}

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Overrides the client's token for this request; `null` sends none. */
  token?: string | null;
}

export interface ApiResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface ApiClient {
  readonly url: string;
  /** Any status comes back as a response; only transport failures throw. */
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  /** Like request, but a non-2xx status throws an ApiError naming the problem. */
  call(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  json<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  text(method: string, path: string, options?: RequestOptions): Promise<string>;
}

const DEFAULT_TIMEOUT_MS = 60_000; // 60 s
// A memory guard, not a limit on use: the docs' user-token-revocations secret runs to tens of MiB
// with a million revoked tokens.
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024; // 64 MiB

export function createApiClient(options: ApiClientOptions): ApiClient {
  const address = options.url.replace(/\/+$/, '');
  const request = (method: string, path: string, req: RequestOptions = {}) =>
    send(options, address, method, path, req);
  const call = async (method: string, path: string, req?: RequestOptions) => {
    const res = await request(method, path, req);
    if (res.status < 200 || res.status > 299) throw apiErrorFrom(res.status, res.contentType, res.body);
    return res;
  };
  return {
    url: address,
    request,
    call,
    async json<T>(method: string, path: string, req?: RequestOptions): Promise<T> {
      const res = await call(method, path, req);
      try {
        return JSON.parse(res.body) as T;
      } catch {
        throw new ResponseError(`control plane at ${address} answered ${method} ${path} with invalid JSON`);
      }
    },
    async text(method: string, path: string, req?: RequestOptions): Promise<string> {
      return (await call(method, path, req)).body;
    },
  };
}

function send(
  options: ApiClientOptions,
  address: string,
  method: string,
  path: string,
  req: RequestOptions,
): Promise<ApiResponse> {
  const url = new URL(address + path);
  const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
  const token = req.token === undefined ? options.token : req.token;
  const headers: http.OutgoingHttpHeaders = {
    accept: 'application/json, application/problem+json, text/plain',
    'user-agent': options.userAgent ?? 'meshctl',
  };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined && token !== null && token !== '') headers['authorization'] = `Bearer ${token}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const secure = url.protocol === 'https:';
  const context = { caConfigured: options.tls?.ca !== undefined };
  if (!secure && url.protocol !== 'http:') {
    return Promise.reject(new ConnectionError(`control plane address ${address} must start with http:// or https://`));
  }

  return new Promise<ApiResponse>((resolve, reject) => {
    // agent: false — Node's global agent keeps sockets alive, which would hold a one-shot CLI
    // open until the server's idle timeout.
    const common: http.RequestOptions = { method, headers, agent: false, timeout: timeoutMs };
    let outgoing: http.ClientRequest;
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const tooLarge = () => {
        reject(new ResponseError(`response from control plane at ${address} to ${method} ${path} exceeds ${maxBytes} bytes`));
        outgoing.destroy();
      };
      if (Number(res.headers['content-length'] ?? 0) > maxBytes) return tooLarge();
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return tooLarge();
        chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', (err) => reject(describeTransportError(err, address, context)));
    };
    try {
      outgoing = secure
        ? https.request(url, { ...common, ...options.tls }, onResponse)
        : http.request(url, common, onResponse);
    } catch (err) {
      // Bad client certificate or key material is reported synchronously.
      return reject(describeTransportError(err, address, context));
    }
    outgoing.on('timeout', () => {
      reject(new ConnectionError(`control plane at ${address} did not answer within ${timeoutMs / 1000}s`));
      outgoing.destroy();
    });
    outgoing.on('error', (err) => reject(describeTransportError(err, address, context)));
    outgoing.end(payload);
  });
}
