import type { FastifyInstance } from 'fastify';

/**
 * Answers a client that half-closes its connection after sending a request (\`nc -N\`, a raw
 * socket's \`end()\`). RFC 9112 §9.6: a half-closed connection neither ends a request nor says
 * the client has lost interest in the answer. Node's HTTP server drops such a request's answer by
 * default unless it is written in the same tick: any handler that awaits the store (a refusal's
 * audit entry, a write synced to disk, every PostgreSQL query) lost it. With this set, Node marks
 * the answer as the connection's last and closes the connection once it is written.
 */
export function answerHalfClosedClients(app: FastifyInstance): void {
  (app.server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
}
