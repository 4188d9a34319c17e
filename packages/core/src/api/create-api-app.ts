import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createAuthenticator } from '../authn/authenticator.js';
import { answerHalfClosedClients } from '../http/half-closed-clients.js';
import { parseLargeJsonOffLoop } from '../http/json-body-parser.js';
import { MeshAuthError } from '../errors.js';
import { anonymous } from '../authn/identity.js';
import { shownPath } from '../http/request-target.js';
import type { PlaneContext } from './plane-context.js';
import { registerOpenApi, registerOpenApiRoute } from './openapi/openapi.js';
import { problemSchema } from './openapi/problem-schema.js';
import { problemHandlers, sendProblem } from './problem.js';
import { serverRefusalLog } from './refusal-log.js';
import { registerCoreRoutes } from './routes/index.js';
import { schemaKeywords } from './schema-keywords.js';

/** The app plane-specific routes are registered on (daemons need no fastify dependency of their own). */
export type ApiApp = FastifyInstance;

export interface ApiAppOptions {
  /** HTTPS options (key, cert, requestCert, ca, minVersion) for the 5682 listener. */
  https?: Record<string, unknown>;
  /** Plane-specific routes (global's /zones, a zone's /sync/status). */
  routes?: (app: FastifyInstance) => void;
}

/**
 * One API server instance: the same routes serve 5681 (HTTP) and 5682 (HTTPS); the daemon builds
 * one app per listener.
 */
export function createApiApp(ctx: PlaneContext, options: ApiAppOptions = {}): FastifyInstance {
  const serverOptions: FastifyServerOptions & { https?: Record<string, unknown> } = {
    loggerInstance: ctx.logger,
    bodyLimit: ctx.config.apiServer.bodyLimit,
    // Resource names may be 253 characters (fastify's default of 100 would answer 414 before validation).
    routerOptions: { maxParamLength: 512 },
    // Per-request info lines would cost more than authentication itself; failures are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // allErrors: a 400 names every invalid field; the x- keywords check durations and the like in the same pass.
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: false, keywords: schemaKeywords({ maxValidForMs: ctx.maxValidForMs }) } },
    // Unique across replicas and restarts: a problem's `instance`, the log lines' reqId, the audit entries' requestId.
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: true,
  };
  if (options.https) serverOptions.https = options.https;
  const app = Fastify(serverOptions) as unknown as FastifyInstance;
  answerHalfClosedClients(app);
  parseLargeJsonOffLoop(app);

  const authenticate = createAuthenticator({
    type: ctx.config.apiServer.authn.type,
    localhostIsAdmin: ctx.config.apiServer.authn.localhostIsAdmin,
    userTokens: ctx.families.user.verifier,
  });
  // Label sets bound once: this hook runs before every request.
  const counted = {
    authenticated: ctx.metrics.authentications.labels({ result: 'authenticated', reason: '' }),
    anonymous: ctx.metrics.authentications.labels({ result: 'anonymous', reason: '' }),
  };

  // Every refusal is counted; its log line is limited per client address (see the limiter).
  const refusalLog = serverRefusalLog(app, ctx);

  app.decorateRequest('identity', null as unknown as typeof anonymous);
  // Callback style, not async: no promise per request on the hottest path.
  app.addHook('onRequest', (request, reply, done) => {
    const socket = request.raw.socket as Partial<TLSSocket>;
    try {
      request.identity = authenticate({
        remoteAddress: socket.remoteAddress,
        target: request.raw.url ?? '',
        headers: request.headers,
        clientCertVerified: socket.encrypted === true && socket.authorized === true,
      });
    } catch (error) {
      if (!(error instanceof MeshAuthError)) return done(error as Error);
      ctx.metrics.authentications.inc({ result: 'refused', reason: error.code });
      if (refusalLog.admit(socket.remoteAddress)) {
        request.log.info({ method: request.method, path: shownPath(request.url), remoteAddress: socket.remoteAddress, reason: error.code }, 'authentication refused');
      }
      sendProblem(reply, error);
      return;
    }
    (request.identity === anonymous ? counted.anonymous : counted.authenticated).inc();
    done();
  });

  const problems = problemHandlers(refusalLog, ctx);
  app.setErrorHandler(problems.errorHandler);
  app.setNotFoundHandler(problems.notFound);
  registerOpenApi(app, {
    info: {
      title: `meshauth ${ctx.plane} control plane API`,
      version: ctx.version,
      description: `The ${ctx.plane === 'global' ? 'global' : 'zone'} control plane's API server (5681 HTTP, 5682 HTTPS).`,
    },
    schemas: [problemSchema],
    bearerAuth: true,
  });
  // Registered once the OpenAPI plugin is loaded, so it sees every route (and so may a test's onRoute hook).
  void app.register(async (routes) => {
    registerCoreRoutes(routes, ctx);
    options.routes?.(routes);
    registerOpenApiRoute(routes);
  });
  return app;
}
