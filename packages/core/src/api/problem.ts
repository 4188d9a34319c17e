import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorRegistry, MeshAuthError, type InvalidParameter } from '../errors.js';
import { shownPath } from '../http/request-target.js';

/** RFC 9457 problem details: every error the API answers with. */
export interface Problem {
  type: string;
  status: number;
  title: string;
  detail: string;
  invalid_parameters?: InvalidParameter[];
}

export function sendProblem(reply: FastifyReply, status: number, title: string, detail: string, invalidParameters?: InvalidParameter[]): FastifyReply {
  const body: Problem = { type: `https://meshauth.dev/problems/${status}`, status, title, detail };
  if (invalidParameters?.length) body.invalid_parameters = invalidParameters;
  return reply.code(status).type('application/problem+json').send(body);
}

/** The not-found handler of every server: names the method and the path (no query string, bounded). */
export function routeNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, 404, 'Not Found', `no route ${request.method} ${shownPath(request.url)}`);
}

/** Turns any thrown error into problem+json: ours by code, fastify's by status, the rest 500 without internals. */
export function problemErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof MeshAuthError) {
    if (error.status >= 500) request.log.error({ err: error }, error.message);
    return sendProblem(reply, error.status, error.title, error.message, error.invalidParameters);
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const params = fastifyError.validation.map((v) => {
      const at = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
      // Name the unknown field itself, not the object holding it.
      const extra = (v.params as { additionalProperty?: string }).additionalProperty;
      if (v.keyword === 'additionalProperties' && extra !== undefined) return { field: at ? `${at}.${extra}` : extra, reason: 'is not a known field' };
      return {
        field: (at || (v.params as { missingProperty?: string }).missingProperty) ?? fastifyError.validationContext ?? 'body',
        reason: v.message ?? 'is invalid',
      };
    });
    return sendProblem(reply, 400, errorRegistry.ERR_BAD_REQUEST.title, `invalid ${fastifyError.validationContext ?? 'request'}: ${params.map((p) => `${p.field} ${p.reason}`).join('; ')}`, params);
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // fastify's own 4xx (413 body too large, 415 unsupported media type, …) keep their HTTP title.
    return sendProblem(reply, status, STATUS_CODES[status] ?? 'Bad Request', fastifyError.message);
  }
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, 500, errorRegistry.ERR_INTERNAL.title, 'internal error; see the control plane log');
}
