import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { PlaneContext } from '../api/plane-context.js';
import { registerOpenApi, registerOpenApiRoute } from '../api/openapi/openapi.js';
import { bootstrapProblemSchema, problemSchema } from '../api/openapi/problem-schema.js';
import { json, problems } from '../api/openapi/responses.js';
import { problemHandlers, type Problem } from '../api/problem.js';
import { serverRefusalLog } from '../api/refusal-log.js';
import { meshNamePattern } from '../api/validate.js';
import { MAX_TOKEN_BYTES } from '../tokens/token-verifier.js';
import { answerHalfClosedClients } from '../http/half-closed-clients.js';
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

const identitySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['mesh', 'name', 'tags', 'type', 'zone'],
  properties: {
    mesh: { type: 'string' },
    name: { type: 'string' },
    tags: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
    type: { type: 'string', enum: ['dataplane', 'ingress', 'egress'] },
    zone: { type: 'string' },
  },
} as const;

const bootstrapResponses = {
  200: json('The identity the token grants', identitySchema),
  ...problems(400, 413),
  401: {
    description: 'The token is refused: reason says why (regenerate it, or it is for another zone, mesh or name)',
    content: { 'application/problem+json': { schema: { $ref: 'BootstrapProblem#' } } },
  },
};

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
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;
  answerHalfClosedClients(app);
  const zone = ctx.zoneName ?? '';
  // Every refusal is counted; its log line is limited per client address, as on the API server.
  const refusalLog = serverRefusalLog(app, ctx);

  const problemReplies = problemHandlers(refusalLog);
  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (!(error instanceof BootstrapRefusal)) return problemReplies.errorHandler(error, request, reply);
    ctx.metrics.dataplaneBootstrapRefusals.inc({ reason: error.reason });
    const remoteAddress = request.raw.socket.remoteAddress;
    if (refusalLog.admit(remoteAddress)) {
      // mesh and name passed the body schema (a mesh name, at most 253 characters); the token is never logged.
      const { mesh, name } = request.body as BootstrapRequest;
      request.log.info({ mesh, dataplane: name, remoteAddress, reason: error.reason }, 'dataplane bootstrap refused');
    }
    const body: BootstrapProblem = {
      type: `https://meshauth.dev/problems/${error.status}`,
      status: error.status,
      title: error.title,
      detail: error.message,
      code: error.code,
      instance: request.id,
      reason: error.reason,
    };
    return reply.code(error.status).type('application/problem+json').send(body);
  });
  app.setNotFoundHandler(problemReplies.notFound);
  registerOpenApi(app, {
    info: { title: `meshauth zone ${zone} dataplane server`, version: ctx.version, description: "The zone's dp-server (5678): proxies present their dataplane token here." },
    schemas: [problemSchema, bootstrapProblemSchema],
  });

  void app.register(async (routes) => {
    routes.post<{ Body: BootstrapRequest }>('/bootstrap', { schema: { summary: 'A proxy presents its dataplane token', body: bootstrapBody, response: bootstrapResponses } }, async (request) => {
      const identity = verifyBootstrap(ctx.families, zone, request.body);
      request.log.info({ mesh: identity.mesh, dataplane: identity.name }, 'dataplane bootstrapped');
      return identity;
    });
    registerOpenApiRoute(routes);
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
