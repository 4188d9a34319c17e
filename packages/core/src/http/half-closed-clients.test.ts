import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { answerHalfClosedClients } from './half-closed-clients.js';

/** Sends one request and half-closes at once, as `nc -N` does; resolves with the status line. */
function halfClosedRequest(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1').split('\r\n')[0] ?? ''));
  });
}

describe('answerHalfClosedClients', () => {
  let app: FastifyInstance;
  afterEach(async () => app.close());

  const serve = async (halfOpen: boolean) => {
    app = Fastify();
    if (halfOpen) answerHalfClosedClients(app);
    // An answer that waits a turn of the event loop, as one that waits for the disk does.
    app.get('/slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { ok: true };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    return (app.server.address() as AddressInfo).port;
  };

  it('answers a request whose client half-closed the connection after sending it, then closes', async () => {
    expect(await halfClosedRequest(await serve(true))).toBe('HTTP/1.1 200 OK');
  });

  it('is needed: without it, Node drops the answer', async () => {
    expect(await halfClosedRequest(await serve(false))).toBe('');
  });
});
