import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { invalidFields, MeshAuthError, type ErrorCode, type InvalidParameter } from '../errors.js';
import { shownPath } from '../http/request-target.js';
import type { RefusalLogLimiter } from '../observability/refusal-log-limiter.js';
import { otherPlaneRouteDetail, type PlaneIdentity } from './other-plane-routes.js';
import { invalidParametersOf } from './validation-errors.js';

/** RFC 9457 problem details: every error the API answers with (`Problem` in /openapi.json). */
export interface Problem {
  type: string;
  status: number;
  title: string;
  detail: string;
  /** Stable, from the error registry (errors.ts): what callers switch on. */
  code: ErrorCode;
  /** The request id: the same value is on the request's log lines as `reqId`. */
  instance: string;
  invalid_parameters?: InvalidParameter[];
}

export function sendProblem(reply: FastifyReply, error: MeshAuthError, status = error.status, title = error.title): FastifyReply {
  const body: Problem = { type: `https://meshauth.dev/problems/${status}`, status, title, detail: error.message, code: error.code, instance: reply.request.id };
  if (error.invalidParameters?.length) body.invalid_parameters = error.invalidParameters;
  return reply.code(status).type('application/problem+json').send(body);
}

export interface ProblemHandlers {
  errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply;
  notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply;
}

/**
 * The error and not-found handlers of a server. Every problem answered gets a log line naming its
 * request id, status and code: at error level for 5xx, else at info level through the server's
 * refusal-log limiter (one client cannot fill the disk with 404s; the rest are counted).
 */
export function problemHandlers(refusalLog: RefusalLogLimiter, plane?: PlaneIdentity): ProblemHandlers {
  const answer = (request: FastifyRequest, reply: FastifyReply, error: MeshAuthError, status = error.status, title = error.title) => {
    if (status >= 500) request.log.error({ err: error, status, code: error.code }, error.message);
    else if (refusalLog.admit(request.raw.socket.remoteAddress)) {
      request.log.info({ method: request.method, path: shownPath(request.url), status, code: error.code }, 'request refused');
    }
    return sendProblem(reply, error, status, title);
  };
  return {
    errorHandler(error, request, reply) {
      if (error instanceof MeshAuthError) return answer(request, reply, error);
      const fastifyError = error as FastifyError;
      if (fastifyError.validation) {
        return answer(request, reply, invalidFields(fastifyError.validationContext ?? 'request', invalidParametersOf(fastifyError)));
      }
      const status = fastifyError.statusCode;
      if (status !== undefined && status >= 400 && status < 500) {
        // fastify's own 4xx (413 body too large, 415 unsupported media type, …) keep their status and HTTP title.
        return answer(request, reply, new MeshAuthError(codeOfStatus(status), fastifyError.message), status, STATUS_CODES[status] ?? 'Bad Request');
      }
      // A bug: its internals go to the log only, under the request's id.
      request.log.error({ err: error, status: 500, code: 'ERR_INTERNAL' }, 'request failed');
      return sendProblem(reply, new MeshAuthError('ERR_INTERNAL', 'internal error; see the control plane log'));
    },
    notFound(request, reply) {
      const path = shownPath(request.url);
      const elsewhere = plane && otherPlaneRouteDetail(plane, request.method, path);
      return answer(request, reply, new MeshAuthError('ERR_NOT_FOUND', elsewhere ?? `no route ${request.method} ${path}`));
    },
  };
}

/** fastify's own 4xx with a code of their own; any other (400 bad JSON, bad URL, …) is ERR_BAD_REQUEST. */
const codesOfFastifyStatus: Partial<Record<number, ErrorCode>> = { 404: 'ERR_NOT_FOUND', 413: 'ERR_PAYLOAD_TOO_LARGE', 415: 'ERR_UNSUPPORTED_MEDIA_TYPE' };

function codeOfStatus(status: number): ErrorCode {
  return codesOfFastifyStatus[status] ?? 'ERR_BAD_REQUEST';
}
