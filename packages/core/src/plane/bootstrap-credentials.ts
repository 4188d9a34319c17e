import type { MeshAuthConfig } from '../config/defaults.js';
import type { Logger } from '../observability/logger.js';
import type { PlaneContext } from '../api/plane-context.js';
import type { TokenFamily } from '../tokens/token-family.js';
import { admin } from '../authn/identity.js';

export const ADMIN_TOKEN_SECRET = 'admin-user-token';
/** The actor of what a plane does by itself on its first start. */
const BOOTSTRAP_ACTOR = { name: 'bootstrap', groups: [] as string[] };
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

type AdminTokenDeps = Pick<PlaneContext, 'store' | 'families' | 'issuedTokens' | 'audit'>;

/**
 * The docs' admin user token, stored as global secret `admin-user-token`. Created only when
 * missing and bootstrap is on, so a deleted token stays deleted while bootstrap is off; once
 * however many replicas start together.
 */
export async function ensureAdminToken(ctx: AdminTokenDeps, logger: Logger): Promise<void> {
  await ctx.store.exclusive('bootstrap', async () => {
    if (await ctx.store.read.getSecret('', ADMIN_TOKEN_SECRET)) return;
    await ctx.families.user.family.caughtUp();
    await storeAdminToken(ctx, `user ${admin.name} (global secret ${ADMIN_TOKEN_SECRET})`);
    // The port is not bound yet: the ready line says how to read it, with the port it got.
    logger.info(`created admin user token (global secret ${ADMIN_TOKEN_SECRET}); the ready line says how to read it`);
  });
}

/**
 * A new user-token signing key was created: the stored admin token (when there is one) is
 * issued again with it, so the docs' way of reading it keeps giving a token that survives the
 * removal of the old key. Returns whether it was re-issued.
 */
export async function reissueAdminToken(ctx: AdminTokenDeps): Promise<boolean> {
  return ctx.store.exclusive('bootstrap', async () => {
    if (!(await ctx.store.read.getSecret('', ADMIN_TOKEN_SECRET)) || !ctx.families.user.family.keys.signer) return false;
    await storeAdminToken(ctx, `user ${admin.name} (global secret ${ADMIN_TOKEN_SECRET}, re-issued with the new signing key)`);
    return true;
  });
}

/** Issues the admin token (recorded and audited like any token) and stores it as the secret. */
async function storeAdminToken({ store, families, issuedTokens, audit }: AdminTokenDeps, target: string): Promise<void> {
  // Recorded and audited like any token: revoking "every token of mesh-system:admin" finds it.
  const token = await issuedTokens.issue(
    families.user,
    { Name: admin.name, Groups: admin.groups },
    ADMIN_TOKEN_VALID_FOR_MS,
    { kind: 'user', name: admin.name, groups: [...admin.groups] },
    BOOTSTRAP_ACTOR.name,
    async (tx) => {
      await audit.write(tx, { actor: BOOTSTRAP_ACTOR, action: 'user-token.generate', target, result: 'success', requestId: '' });
    },
  );
  await store.transaction((tx) => tx.putSecret({ mesh: '', name: ADMIN_TOKEN_SECRET, data: Buffer.from(token), updatedAt: Date.now() }));
}

/**
 * The ready line's hint: the docs' way of reading the stored admin token from the plane's own
 * machine, with the HTTP port actually bound. Only where it works: localhostIsAdmin on and the
 * HTTP listener reachable as localhost.
 */
export function adminTokenHint(config: Pick<MeshAuthConfig, 'apiServer'>, httpPort: number): string | undefined {
  const { http, authn } = config.apiServer;
  if (!authn.localhostIsAdmin) return undefined;
  const host = ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(http.interface) ? 'localhost' : http.interface;
  return `curl -s ${host}:${httpPort}/global-secrets/${ADMIN_TOKEN_SECRET} | jq -r .data | base64 -d`;
}
