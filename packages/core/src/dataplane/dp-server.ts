import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { PlaneContext } from '../api/plane-context.js';
import { problemErrorHandler, routeNotFound, type Problem } from '../api/problem.js';
import { serverRefusalLog } from '../api/refusal-log.js';
import { meshNamePattern } from '../api/validate.js';
import { MAX_TOKEN_BYTES } from '../tokens/token-verifier.js';
import { explainListenError } from '../plane/port-in-use.js';
import { BootstrapRefusal, type BootstrapRefusalReason } from './bootstrap-refusal.js';
import { verifyBootstrap, type BootstrapRequest } from './verify-bootstrap.js';

/** A bootstrap body is three short strings; anything near this is not one. */
const BODY_LIMIT_BYTES = 64 * 1024;

const bootstrapBody = {
  type: 'object',
  required: ['mesh', 'name', 'dataplaneToken'],
  additionalProperties: false,
  properties: {
    mesh: { type: 'string', pattern: meshNamePattern },
    name: { type: 'string', minLength: 1, maxLength: 253 },
    dataplaneToken: { type: 'string', minLength: 1, maxLength: MAX_TOKEN_BYTES },
  },
} as const;

export interface DpServerOptions {
  port: number;
  host: string;
}

export interface DpServer {
  /** The port bound (the one chosen when asked for 0). */
  port: number;
  close(): Promise<void>;
}

/** problem+json plus `reason`, so a proxy can tell "regenerate the token" from "wrong zone". */
export type BootstrapProblem = Problem & { reason: BootstrapRefusalReason };

/**
 * The zone's dataplane bootstrap server (Kuma's dp-server, 5678): a proxy presents its dataplane
 * token with the mesh and name it wants to run as, and learns the identity the token grants.
 * Dataplane tokens only: no user-token authentication and no admin routes here.
 */
export function createDpServerApp(ctx: PlaneContext): FastifyInstance {
  const app = Fastify({
    loggerInstance: ctx.logger,
    bodyLimit: BODY_LIMIT_BYTES,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: false } },
    return503OnClosing: true,
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;
  const zone = ctx.zoneName ?? '';
  // Every refusal is counted; its log line is limited per client address, as on the API server.
  const refusalLog = serverRefusalLog(app, ctx);

  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (!(error instanceof BootstrapRefusal)) return problemErrorHandler(error, request, reply);
    ctx.metrics.dataplaneBootstrapRefusals.inc({ reason: error.reason });
    const remoteAddress = request.raw.socket.remoteAddress;
    if (refusalLog.admit(remoteAddress)) {
      // mesh and name passed the body schema (a mesh name, at most 253 characters); the token is never logged.
      const { mesh, name } = request.body as BootstrapRequest;
      request.log.info({ mesh, dataplane: name, remoteAddress, reason: error.reason }, 'dataplane bootstrap refused');
    }
    const body: BootstrapProblem = { type: 'https://meshauth.dev/problems/401', status: error.status, title: error.title, detail: error.message, reason: error.reason };
    return reply.code(error.status).type('application/problem+json').send(body);
  });
  app.setNotFoundHandler(routeNotFound);

  app.post<{ Body: BootstrapRequest }>('/bootstrap', { schema: { body: bootstrapBody } }, async (request) => {
    const identity = verifyBootstrap(ctx.families, zone, request.body);
    request.log.info({ mesh: identity.mesh, dataplane: identity.name }, 'dataplane bootstrapped');
    return identity;
  });
  return app;
}

export async function startDpServer(ctx: PlaneContext, options: DpServerOptions): Promise<DpServer> {
  const app = createDpServerApp(ctx);
  try {
    await app.listen({ port: options.port, host: options.host });
  } catch (error) {
    await app.close();
    throw explainListenError(error, options.port, 'dpServer.port');
  }
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}
