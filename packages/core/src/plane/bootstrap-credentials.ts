import type { Logger } from '../observability/logger.js';
import type { Store } from '../store/store.js';
import type { TokenFamily } from '../tokens/token-family.js';
import type { TokenKind } from '../tokens/token-families.js';
import type { UserClaims } from '../tokens/claims.js';
import { admin } from '../authn/identity.js';

export const ADMIN_TOKEN_SECRET = 'admin-user-token';
/** Ten years, like Kuma's bootstrap admin token. */
const ADMIN_TOKEN_VALID_FOR_MS = 10 * 365 * 24 * 3_600_000;

/**
 * First start: serial 1. Later starts reuse what the store holds. Under the store's bootstrap
 * lock, after reading the log: replicas starting together on an empty database create one key.
 */
export async function ensureSigningKey(family: TokenFamily, logger: Logger): Promise<void> {
  await family.store.exclusive('bootstrap', async () => {
    // Memory shows every change committed before the lock was taken (another replica's key).
    await family.caughtUp();
    if (family.keys.size > 0) return;
    const key = await family.generateKey();
    logger.info({ family: family.name.id, serial: key.serial }, `created ${family.name.label} signing key`);
  });
}

/**
 * The docs' admin user token, stored as global secret `admin-user-token`. Created only when
 * missing and bootstrap is on, so a deleted token stays deleted while bootstrap is off; once
 * however many replicas start together.
 */
export async function ensureAdminToken(store: Store, user: TokenKind<UserClaims>, logger: Logger): Promise<void> {
  await store.exclusive('bootstrap', async () => {
    if (await store.read.getSecret('', ADMIN_TOKEN_SECRET)) return;
    await user.family.caughtUp();
    const token = await user.issuer.issue({ Name: admin.name, Groups: admin.groups }, ADMIN_TOKEN_VALID_FOR_MS);
    await store.transaction((tx) => tx.putSecret({ mesh: '', name: ADMIN_TOKEN_SECRET, data: Buffer.from(token), updatedAt: Date.now() }));
    logger.info(`created admin user token; read it from this machine with: curl -s localhost:5681/global-secrets/${ADMIN_TOKEN_SECRET} | jq -r .data | base64 -d`);
  });
}

/**
 * A new user-token signing key was created: the stored admin token (when there is one) is
 * issued again with it, so the docs' way of reading it keeps giving a token that survives the
 * removal of the old key. Returns whether it was re-issued.
 */
export async function reissueAdminToken(store: Store, user: TokenKind<UserClaims>): Promise<boolean> {
  return store.exclusive('bootstrap', async () => {
    if (!(await store.read.getSecret('', ADMIN_TOKEN_SECRET)) || !user.family.keys.signer) return false;
    const token = await user.issuer.issue({ Name: admin.name, Groups: admin.groups }, ADMIN_TOKEN_VALID_FOR_MS);
    await store.transaction((tx) => tx.putSecret({ mesh: '', name: ADMIN_TOKEN_SECRET, data: Buffer.from(token), updatedAt: Date.now() }));
    return true;
  });
}
