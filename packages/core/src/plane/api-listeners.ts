import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { createApiApp } from '../api/create-api-app.js';
import { configError } from '../config/config-error.js';
import type { PlaneContext } from '../api/plane-context.js';
import { serverTlsPolicy } from '../tls/server-tls-policy.js';
import { loadClientCa } from './client-ca.js';
import { listenOn } from './port-in-use.js';
import { loadServerCertificate } from './server-certificate.js';

export interface ApiListeners {
  httpPort: number;
  httpsPort: number | undefined;
  close(): Promise<void>;
}

/** 5681 (HTTP) and, unless disabled, 5682 (HTTPS: TLS 1.3, or 1.2 with forward secrecy and AEAD) serving the same routes. */
export async function startApiListeners(ctx: PlaneContext, routes?: (app: FastifyInstance) => void): Promise<ApiListeners> {
  const { http, https, authn } = ctx.config.apiServer;
  const apps: FastifyInstance[] = [];
  const listen = async (app: FastifyInstance, port: number, host: string, setting: string) => {
    apps.push(app);
    await listenOn(port, setting, () => app.listen({ port, host }));
    return (app.server.address() as AddressInfo).port;
  };
  if (authn.type === 'adminClientCerts' && !https.enabled) {
    // Client certificates only exist on 5682; without it this mode would leave no way in but localhost.
    throw configError('apiServer.authn.type adminClientCerts needs HTTPS (MESHAUTH_API_SERVER_HTTPS_ENABLED=true)');
  }
  if (authn.localhostIsAdmin) {
    ctx.logger.warn('localhostIsAdmin is on: requests from this machine without a token act as mesh-system:admin');
  }
  // Certificates are read before anything binds, so a bad file stops the start with one clear line.
  const tls = https.enabled ? await httpsOptions(ctx) : undefined;
  try {
    const httpPort = await listen(createApiApp(ctx, routes ? { routes } : {}), http.port, http.interface, 'apiServer.http.port');
    let httpsPort: number | undefined;
    if (tls) {
      httpsPort = await listen(createApiApp(ctx, { https: tls, ...(routes ? { routes } : {}) }), https.port, https.interface, 'apiServer.https.port');
    }
    return { httpPort, httpsPort, close: () => closeAll(apps) };
  } catch (error) {
    await closeAll(apps);
    throw error;
  }
}

async function httpsOptions(ctx: PlaneContext): Promise<Record<string, unknown>> {
  const { https, authn } = ctx.config.apiServer;
  const server = await loadServerCertificate(ctx.store, { certFile: https.tlsCertFile, keyFile: https.tlsKeyFile, now: new Date(ctx.clock.now()) });
  if (server.renewed) {
    ctx.logger.warn({ reason: server.renewed }, 'HTTPS server certificate regenerated: clients that trust the previous one (meshctl --ca-cert-file) need the new one');
  }
  ctx.logger.info({ origin: server.origin, fingerprint256: server.fingerprint256 }, 'HTTPS server certificate');
  const tls: Record<string, unknown> = { cert: server.cert, key: server.key, ...serverTlsPolicy };
  if (authn.type === 'adminClientCerts') {
    ctx.logger.warn('apiServer.authn.type adminClientCerts is deprecated: migrate to user tokens');
    // Ask for a certificate but let the handshake finish without one (or with an untrusted one):
    // such a caller is anonymous, and gets a 403 that says so rather than a bare TLS alert.
    Object.assign(tls, { requestCert: true, rejectUnauthorized: false, ca: loadClientCa(authn.clientCerts.caFile) });
  }
  try {
    // OpenSSL may still refuse material that parsed, e.g. a key too small for its security level.
    createSecureContext(tls);
  } catch (error) {
    throw configError(`the HTTPS certificate cannot be used: ${(error as Error).message}`);
  }
  return tls;
}

async function closeAll(apps: FastifyInstance[]): Promise<void> {
  await Promise.allSettled(apps.map((app) => app.close()));
}
