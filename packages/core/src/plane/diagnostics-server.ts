import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observability/logger.js';
import { listenOn } from './port-in-use.js';

/** Why the plane is not ready, or undefined when it is. */
export type Readiness = () => string | undefined;

export interface DiagnosticsServer {
  port: number;
  /** Until called, `/ready` answers 503 "starting". */
  setReadiness(check: Readiness): void;
  close(): Promise<void>;
}

/**
 * Kuma's diagnostics port (5680): `GET /healthy` answers 200 while the process serves requests
 * at all (a liveness probe), `GET /ready` 200 once the plane can do its job and 503 with the
 * reason otherwise (a readiness probe, the compose healthchecks). Plain text, no authentication,
 * nothing else: it says nothing a probe from anywhere may not know.
 */
export async function startDiagnosticsServer(options: { port: number; host: string; logger: Logger }): Promise<DiagnosticsServer> {
  let readiness: Readiness = () => 'the control plane is starting';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const reply = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : `${text}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed');
    if (path === '/healthy') return reply(200, 'healthy');
    if (path === '/ready') {
      let reason: string | undefined;
      try {
        reason = readiness();
      } catch (error) {
        reason = `readiness check failed: ${(error as Error).message}`;
      }
      return reason === undefined ? reply(200, 'ready') : reply(503, `not ready: ${reason}`);
    }
    return reply(404, 'not found: this port serves GET /ready and GET /healthy');
  });
  server.keepAliveTimeout = 1_000;
  await listenOn(options.port, 'diagnostics.serverPort', () => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  }));
  server.on('error', (error) => options.logger.error({ err: error }, 'diagnostics server error'));
  return {
    port: (server.address() as AddressInfo).port,
    setReadiness(check) {
      readiness = check;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
