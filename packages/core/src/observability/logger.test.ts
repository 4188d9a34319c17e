import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

/** What any fastify server on our logger writes about a request, beyond the lines meshauth writes itself. */
const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

function serverWithLog(level: string) {
  const lines: string[] = [];
  const app = Fastify({ loggerInstance: createLogger({ level, name: 'test', destination: { write: (line: string) => void lines.push(line) } }) }) as unknown as FastifyInstance;
  app.get('/who-am-i', async () => ({}));
  apps.push(app);
  return { app, lines };
}

describe('createLogger', () => {
  it('shows a request logged as `req` by method, path and peer: no query string, no Host, no URL', async () => {
    // Request logging on, as fastify has it by default: our `req` serializer must win over fastify's.
    const { app, lines } = serverWithLog('info');
    await app.inject({ method: 'GET', url: '/who-am-i?token=query-string-secret', headers: { host: 'evil.example', authorization: 'Bearer header-secret' } });
    const incoming = lines.map((line) => JSON.parse(line) as { msg: string; req?: unknown }).find((l) => l.msg === 'incoming request');
    expect(incoming?.req).toEqual({ method: 'GET', path: '/who-am-i', remoteAddress: '127.0.0.1' });
    expect(lines.join('')).not.toMatch(/query-string-secret|header-secret|evil\.example/);
  });

  it('blanks the raw bytes of a request the HTTP parser refused (fastify logs that error at trace)', async () => {
    const { app, lines } = serverWithLog('trace');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /who-am-i HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer header-secret\r\nnot a header\r\n\r\n'));
      socket.on('data', () => undefined);
      socket.on('close', () => resolve());
    });
    const clientError = lines.map((line) => JSON.parse(line) as { msg: string; err?: Record<string, unknown> }).find((l) => l.msg === 'client error');
    expect(clientError?.err).toMatchObject({ code: 'HPE_INVALID_HEADER_TOKEN', rawPacket: '[redacted]' });
    expect(lines.join('')).not.toContain('header-secret');
  });
});
