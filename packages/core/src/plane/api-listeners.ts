import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createApiApp } from '../api/create-api-app.js';
import type { PlaneContext } from '../api/plane-context.js';
import { loadClientCa } from './client-ca.js';
import { loadServerCertificate } from './server-certificate.js';

export interface ApiListeners {
  httpPort: number;
  httpsPort: number | undefined;
  close(): Promise<void>;
}

/** 5681 (HTTP) and, unless disabled, 5682 (HTTPS, TLS 1.2+) serving the same routes. */
export async function startApiListeners(ctx: PlaneContext, routes?: (app: FastifyInstance) => void): Promise<ApiListeners> {
  const { http, https, authn } = ctx.config.apiServer;
  const apps: FastifyInstance[] = [];
  const listen = async (app: FastifyInstance, port: number, host: string) => {
    apps.push(app);
    await app.listen({ port, host });
    return (app.server.address() as AddressInfo).port;
  };
  try {
    const httpPort = await listen(createApiApp(ctx, routes ? { routes } : {}), http.port, http.interface);
    let httpsPort: number | undefined;
    if (https.enabled) {
      const { cert, key } = loadServerCertificate(ctx.store, https.tlsCertFile, https.tlsKeyFile);
      const tls: Record<string, unknown> = { cert, key, minVersion: 'TLSv1.2' };
      if (authn.type === 'adminClientCerts') {
        // Ask for a certificate but let the handshake finish without one: such a caller is anonymous.
        Object.assign(tls, { requestCert: true, rejectUnauthorized: false, ca: loadClientCa(authn.clientCerts.caFile) });
      }
      httpsPort = await listen(createApiApp(ctx, { https: tls, ...(routes ? { routes } : {}) }), https.port, https.interface);
    }
    return { httpPort, httpsPort, close: () => closeAll(apps) };
  } catch (error) {
    await closeAll(apps);
    throw error;
  }
}

async function closeAll(apps: FastifyInstance[]): Promise<void> {
  await Promise.allSettled(apps.map((app) => app.close()));
}
