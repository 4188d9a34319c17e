import { pino, type Logger } from 'pino';

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
];

export function createLogger(options: { level: string; name: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths: redactPaths, censor: '[redacted]' },
    },
    options.destination,
  );
}

export type { Logger };
