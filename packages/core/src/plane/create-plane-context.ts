import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createAuditFileSink } from '../audit/audit-file-sink.js';
import { AuditLog } from '../audit/audit-log.js';
import { AccessRules } from '../authn/access-rules.js';
import type { PlaneContext } from '../api/plane-context.js';
import type { Clock } from '../clock.js';
import type { MeshAuthConfig } from '../config/defaults.js';
import { parseDuration } from '../duration.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics, registerGauge } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import type { SigningKey } from '../tokens/signing-key.js';
import { IssuedTokenRecords } from '../tokens/issued-token-records.js';
import { TokenFamilies } from '../tokens/token-families.js';

export const meshauthVersion: string = (
  JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string }
).version;

export interface PlaneContextOptions {
  plane: 'global' | 'zone';
  config: MeshAuthConfig;
  store: Store;
  instance: string;
  logger: Logger;
  clock: Clock;
  refuseUserKey?: (key: SigningKey) => string | undefined;
  userTokenIssuingRefusal?: () => string | undefined;
}

/** Builds what both daemons share: token families over the store, access rules, metrics. */
export async function createPlaneContext(options: PlaneContextOptions): Promise<PlaneContext> {
  const { config, store, clock } = options;
  const families = await TokenFamilies.open({
    store,
    clock,
    logger: options.logger,
    ...(options.refuseUserKey ? { refuseUserKey: options.refuseUserKey } : {}),
  });
  const maxValidForMs = parseDuration(config.apiServer.authn.tokens.maxValidFor);
  const issuedTokens = await IssuedTokenRecords.open({ store, clock, instance: options.instance, maxValidForMs });
  const audit = new AuditLog({
    store,
    clock,
    plane: options.plane,
    instance: options.instance,
    ...(config.audit.file ? { sink: createAuditFileSink(config.audit.file) } : {}),
  });
  const metrics = createMetrics(options.plane);
  registerGauge(metrics, 'meshauth_signing_keys', 'Signing keys present, by token family', ['family'], () =>
    [families.user.family, families.zone.family].map((f) => [{ family: f.name.id }, f.keys.size]),
  );
  registerGauge(metrics, 'meshauth_revocations', 'Revoked token ids held, by token family', ['family'], () =>
    [families.user.family, families.zone.family].map((f) => [{ family: f.name.id }, f.revocations.size]),
  );
  return {
    plane: options.plane,
    zoneName: options.plane === 'zone' ? config.multizone.zone.name : undefined,
    version: meshauthVersion,
    instance: options.instance,
    config,
    store,
    clock,
    logger: options.logger,
    metrics,
    families,
    access: new AccessRules(config.access.static),
    issuedTokens,
    audit,
    maxValidForMs,
    userTokenIssuingRefusal: options.userTokenIssuingRefusal ?? (() => undefined),
  };
}
