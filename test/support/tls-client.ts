import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { binaries, daemonEnv, nodeArgsOf } from './daemon.js';
import type { HttpResult } from './http.js';

/** What a client brings to 5682: the CA it trusts for the server, and maybe its own cert and key. */
export interface TlsClientOptions {
  /** PEM the server certificate must chain to; omitted: the server is not verified. */
  ca?: string;
  cert?: string;
  key?: string;
}

/** One HTTPS request to 127.0.0.1:port (SNI `localhost`), status and parsed body back. */
export function httpsRequest(
  port: number,
  method: string,
  path: string,
  options: TlsClientOptions & { token?: string; body?: unknown } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers,
        servername: 'localhost',
        // A fresh agent per request: no TLS session or socket reuse between differently-credentialed calls.
        agent: false,
        ...tlsOptions(options),
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: new Headers(response.headers as Record<string, string>), text, json });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Completes one handshake and reports what the server presented (and whether it verified). */
export function handshake(port: number, options: TlsClientOptions & Omit<tls.ConnectionOptions, keyof TlsClientOptions> = {}): Promise<{
  authorized: boolean;
  protocol: string | null;
  /** The suite agreed on, in OpenSSL's naming (`ECDHE-RSA-AES128-GCM-SHA256`, `TLS_AES_256_GCM_SHA384`). */
  cipher: string;
  peer: tls.PeerCertificate;
}> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...options, ...tlsOptions(options) });
    socket.once('secureConnect', () => {
      resolve({ authorized: socket.authorized, protocol: socket.getProtocol(), cipher: socket.getCipher().name, peer: socket.getPeerCertificate() });
      socket.destroy();
    });
    socket.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
  });
}

function tlsOptions(options: TlsClientOptions): tls.ConnectionOptions {
  return {
    rejectUnauthorized: options.ca !== undefined,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.cert === undefined ? {} : { cert: options.cert }),
    ...(options.key === undefined ? {} : { key: options.key }),
  };
}

/** A PEM certificate from what `getPeerCertificate()` returns. */
export function peerPem(peer: tls.PeerCertificate): string {
  return new X509Certificate(peer.raw).toString();
}

/** Runs a daemon that is expected to refuse to start; resolves with its exit code and stderr lines. */
export function startExpectingFailure(kind: 'global-cp' | 'zone-cp', env: Record<string, string>): Promise<{ code: number | null; stderr: string[] }> {
  const child = spawn(process.execPath, [...nodeArgsOf(kind), binaries[kind]], {
    env: daemonEnv(kind, env),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // A daemon that starts after all must not outlive the test.
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr: stderr.split('\n').filter((line) => line !== '') });
    }),
  );
}
