import type { Logger } from '../observability/logger.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { TokenFamily } from '../tokens/token-family.js';
import type { TokenKind } from '../tokens/token-families.js';
import type { UserClaims } from '../tokens/claims.js';
import { admin } from '../authn/identity.js';

export const ADMIN_TOKEN_SECRET = 'admin-user-token';
/** Ten years, like Kuma's bootstrap admin token. */
const ADMIN_TOKEN_VALID_FOR_MS = 10 * 365 * 24 * 3_600_000;

/** First start: serial 1. Later starts reuse what the store holds. */
export async function ensureSigningKey(family: TokenFamily, logger: Logger): Promise<void> {
  if (family.keys.size > 0) return;
  const key = await family.generateKey();
  logger.info({ family: family.name.id, serial: key.serial }, `created ${family.name.label} signing key`);
}

/**
 * The docs' admin user token, stored as global secret `admin-user-token`. Created only when
 * missing and bootstrap is on, so a deleted token stays deleted while bootstrap is off.
 */
export async function ensureAdminToken(store: SqliteStore, user: TokenKind<UserClaims>, logger: Logger): Promise<void> {
  if (store.getSecret('', ADMIN_TOKEN_SECRET)) return;
  const token = await user.issuer.issue({ Name: admin.name, Groups: admin.groups }, ADMIN_TOKEN_VALID_FOR_MS);
  store.transaction(() => store.putSecret({ mesh: '', name: ADMIN_TOKEN_SECRET, data: Buffer.from(token), updatedAt: Date.now() }));
  logger.info(`created admin user token; read it from this machine with: curl -s localhost:5681/global-secrets/${ADMIN_TOKEN_SECRET} | jq -r .data | base64 -d`);
}
