import { parseDuration } from '../duration.js';

/**
 * Settings whose valid values are narrower than their type. Keyed by dotted path; each returns
 * a reason when the value is bad. Types (string / number / boolean / list) come from the defaults.
 */
type Check = (value: unknown) => string | undefined;

const oneOf =
  (...allowed: string[]): Check =>
  (value) =>
    allowed.includes(value as string) ? undefined : `must be one of ${allowed.join(', ')}`;

const port: Check = (value) =>
  Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535 ? undefined : 'must be a port 0-65535';

const duration: Check = (value) => {
  try {
    return parseDuration(value as string) > 0 ? undefined : 'must be a positive duration';
  } catch (error) {
    return (error as Error).message;
  }
};

export const constraints: Record<string, Check> = {
  environment: oneOf('universal'),
  logFormat: oneOf('json', 'text'),
  logLevel: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  'apiServer.bodyLimit': (v) => (Number.isInteger(v) && (v as number) > 0 ? undefined : 'must be a positive integer'),
  'apiServer.http.port': port,
  'apiServer.https.port': port,
  'apiServer.authn.type': oneOf('tokens', 'adminClientCerts'),
  'apiServer.authn.tokens.maxValidFor': duration,
  'multizone.global.syncPort': port,
  'multizone.global.syncUserTokenKeys': oneOf('off', 'public', 'private'),
  'multizone.global.changeLogRetention': (v) => (Number.isInteger(v) && (v as number) >= 1 ? undefined : 'must be >= 1'),
  'multizone.zone.syncUserTokenKeys': oneOf('off', 'public', 'private'),
  'multizone.zone.globalAddress': (v) =>
    v === '' || (v as string).split(',').every((address) => /^grpcs?:\/\/[^/,]+:\d+$/.test(address.trim()))
      ? undefined
      : 'must look like grpc://host:5685 or grpcs://host:5685 (or a comma-separated list of them)',
  'multizone.zone.downPolicy': (v) => {
    if (v === 'keep') return undefined;
    const match = /^deny-after:(.+)$/.exec(v as string);
    return match ? duration(match[1]) : 'must be keep or deny-after:<duration>';
  },
  'multizone.zone.heartbeatInterval': (v) => {
    const reason = duration(v);
    if (reason) return reason;
    const ms = parseDuration(v as string);
    return ms >= 100 && ms <= 300_000 ? undefined : 'must be between 100ms and 5m';
  },
  'multizone.zone.reconnectMinBackoff': duration,
  'multizone.zone.reconnectMaxBackoff': duration,
  'multizone.zone.name': (v) =>
    v === '' || /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(v as string) ? undefined : 'must be a DNS label (a-z, 0-9, -)',
  'dpServer.port': port,
  'diagnostics.serverPort': port,
  'audit.retention': duration,
  'store.type': oneOf('sqlite', 'postgres'),
  'store.postgres.port': (v) => (port(v) ?? (v === 0 ? 'must be a port 1-65535' : undefined)),
  'store.postgres.tlsMode': oneOf('disable', 'verifyNone', 'verifyCa', 'verifyFull'),
  'store.postgres.maxOpenConnections': (v) => (Number.isInteger(v) && (v as number) >= 2 ? undefined : 'must be an integer >= 2'),
};
