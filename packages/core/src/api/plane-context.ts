import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { MeshAuthConfig } from '../config/defaults.js';
import type { AccessRules } from '../authn/access-rules.js';
import type { Identity } from '../authn/identity.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import type { IssuedTokenRecords } from '../tokens/issued-token-records.js';
import type { TokenFamilies } from '../tokens/token-families.js';

/** Everything the API routes of either plane need; built once by the daemon. */
export interface PlaneContext {
  plane: 'global' | 'zone';
  zoneName: string | undefined;
  version: string;
  /** This process among the replicas sharing its store (`GET /` shows it). */
  instance: string;
  config: MeshAuthConfig;
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  families: TokenFamilies;
  access: AccessRules;
  /** Every token this plane issues is recorded here (never the token). */
  issuedTokens: IssuedTokenRecords;
  /** Every admin action is appended here before it is answered. */
  audit: AuditLog;
  /** Longest validFor accepted for any token, in ms. */
  maxValidForMs: number;
  /** Why this plane cannot issue user tokens now (answered with 409), or undefined when it can. */
  userTokenIssuingRefusal(): string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity;
  }
}
