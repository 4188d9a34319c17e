import { pino, type Logger } from 'pino';
import { textDestination } from './text-log-format.js';
import { shownPath } from '../http/request-target.js';

/**
 * Paths pino blanks in every line: credentials a request or a record might carry. Keep in step
 * with anything that logs request headers, secrets or tokens.
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.authentication',
  'req.headers.cookie',
  'headers.authorization',
  'headers.authentication',
  'token',
  '*.token',
  'dataplaneToken',
  '*.dataplaneToken',
  'privatePem',
  '*.privatePem',
  'privateKey',
  '*.privateKey',
  'keyPem',
  '*.keyPem',
  'data',
  '*.data',
  'password',
  '*.password',
  // Node's HTTP parser puts the raw bytes of a request it cannot parse (request line and headers,
  // Authorization included) on the error; fastify logs that error at trace level.
  'err.rawPacket',
];

/**
 * What a line shows of a request whenever one is logged as `req` (fastify does, for errors and,
 * were it enabled, per-request logging): method, path and peer. Not the URL (its query string may
 * carry a token and is as long as the client likes), not the Host or any other header.
 */
function requestSerializer(req: { method?: string; url?: string; socket?: { remoteAddress?: string } }): Record<string, unknown> {
  return { method: req.method, path: shownPath(req.url ?? ''), remoteAddress: req.socket?.remoteAddress };
}

export function createLogger(options: { level: string; name: string; format?: 'json' | 'text'; destination?: pino.DestinationStream }): Logger {
  const destination = options.destination ?? (options.format === 'text' ? textDestination() : undefined);
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      // Ours win over fastify's own `req` serializer (it merges the instance's serializers last).
      serializers: { req: requestSerializer },
    },
    destination,
  );
}

export type { Logger };
