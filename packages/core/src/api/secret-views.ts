import { MeshAuthError } from '../errors.js';
import type { AuditAction } from '../audit/audit-log.js';
import type { Store, StoreTx } from '../store/store.js';
import type { TokenFamilies } from '../tokens/token-families.js';
import type { TokenFamily } from '../tokens/token-family.js';
import { readRevocationList } from '../tokens/revocation-list.js';
import { RevocationSet } from '../tokens/revocation-set.js';

/** A secret as the API shows it: `mesh` '' for a GlobalSecret. */
export interface SecretResource {
  mesh: string;
  name: string;
  data: Buffer;
}

/** The audit entry of a secret write, in its transaction: told what the write turned out to be. */
export type SecretAudit = (tx: StoreTx, action: AuditAction) => Promise<void>;

/**
 * Deleting the key that signs user tokens (or the last one) would silently lock everyone out —
 * the admin token and meshctl's own token included — so it takes `?force=true`.
 */
function refuseLockOut(family: TokenFamily, serial: number, families: TokenFamilies): void {
  if (family !== families.user.family || !family.keys.get(serial)) return;
  const name = `${family.name.keySecretPrefix}${serial}`;
  if (family.keys.size === 1) {
    throw new MeshAuthError('ERR_CONFLICT', `${name} is the last user-token signing key: deleting it makes every user token fail, the admin token and meshctl's included; create a new key first (POST /tokens/user/signing-keys, meshctl rotate signing-key), or delete with ?force=true (meshctl delete --force)`);
  }
  if (family.keys.signer?.serial === serial) {
    throw new MeshAuthError('ERR_CONFLICT', `${name} signs user tokens now: deleting it makes every token it signed fail (the admin token's included); delete an older key, or delete with ?force=true (meshctl delete --force)`);
  }
}

/**
 * Secrets, with the names Kuma gives keys and revocation lists answered from the token families
 * (so the docs' "store it as GlobalSecret" works while the records stay first-class).
 */
export class SecretViews {
  constructor(
    private readonly store: Store,
    private readonly families: TokenFamilies,
    private readonly now: () => number,
  ) {}

  async get(mesh: string, name: string): Promise<SecretResource | undefined> {
    const view = this.families.secretView(mesh, name);
    if (!view) {
      const row = await this.store.read.getSecret(mesh, name);
      return row && { mesh, name, data: row.data };
    }
    if (view.kind === 'revocations') {
      // Like list and delete: an empty set is no secret at all (404), as before anyone wrote one.
      if (view.family.revocations.size === 0) return undefined;
      return { mesh, name, data: Buffer.from([...view.family.revocations.values()].join(',')) };
    }
    const key = view.family.keys.get(view.serial);
    return key && { mesh, name, data: Buffer.from(key.privatePem ?? key.publicPem) };
  }

  async list(mesh: string): Promise<SecretResource[]> {
    const out: SecretResource[] = (await this.store.read.listSecrets(mesh)).map((r) => ({ mesh, name: r.name, data: r.data }));
    for (const family of this.families.familiesIn(mesh)) {
      for (const key of family.keys.list()) out.push({ mesh, name: `${family.name.keySecretPrefix}${key.serial}`, data: Buffer.from(key.privatePem ?? key.publicPem) });
      if (family.revocations.size > 0) out.push((await this.get(mesh, family.name.revocationsSecret))!);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Returns true when created. */
  async put(mesh: string, name: string, data: Buffer, audit: SecretAudit): Promise<boolean> {
    const view = this.families.secretView(mesh, name);
    if (!view) {
      return this.store.transaction(async (tx) => {
        const created = await tx.putSecret({ mesh, name, data, updatedAt: this.now() });
        await audit(tx, 'secret.put');
        return created;
      });
    }
    if (view.kind === 'revocations') {
      const existed = view.family.revocations.size > 0;
      await view.family.replaceRevocations(await readRevocationList(data), (tx) => audit(tx, 'revocations.replace'));
      return !existed;
    }
    const existed = view.family.keys.get(view.serial) !== undefined;
    await view.family.putKeyPem(view.serial, data.toString('utf8'), (tx) => audit(tx, 'signing-key.put'));
    return !existed;
  }

  /** `force`: also the user-token key that signs, or the last one (which locks every user out). */
  async delete(mesh: string, name: string, audit: SecretAudit, { force = false }: { force?: boolean } = {}): Promise<void> {
    const view = this.families.secretView(mesh, name);
    if (view?.kind === 'key' && !force) refuseLockOut(view.family, view.serial, this.families);
    const found =
      !view ? await this.store.transaction(async (tx) => (await tx.deleteSecret(mesh, name)) && (await audit(tx, 'secret.delete'), true))
      : view.kind === 'key' ? await view.family.deleteKey(view.serial, (tx) => audit(tx, 'signing-key.delete'))
      : view.family.revocations.size > 0 && (await view.family.replaceRevocations(new RevocationSet(), (tx) => audit(tx, 'revocations.replace')), true);
    if (!found) throw new MeshAuthError('ERR_NOT_FOUND', `${mesh ? `secret ${name} in mesh ${mesh}` : `global secret ${name}`} not found`);
  }
}
