import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { createLogger } from '../observability/logger.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { dataplaneTokenFamily, userTokenFamily, zoneTokenFamily } from './family-names.js';
import { TokenFamilies } from './token-families.js';

const clock = createManualClock(1_700_000_000_000);
const keyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const logger = createLogger({ level: 'silent', name: 'test' });
let store: SqliteStore;
const opened: TokenFamilies[] = [];
beforeEach(() => {
  store = SqliteStore.open(':memory:');
});
afterEach(async () => {
  for (const families of opened.splice(0)) families.feed.stop();
  await store.close();
});
const open = async (extra: Partial<Parameters<typeof TokenFamilies.open>[0]> = {}) => {
  const families = await TokenFamilies.open({ store, clock, logger, ...extra });
  opened.push(families);
  return families;
};

describe('family names', () => {
  it('are the secret names the docs give (Kuma’s)', () => {
    expect(userTokenFamily).toEqual({ id: 'user-token', label: 'user token', keySecretPrefix: 'user-token-signing-key-', revocationsSecret: 'user-token-revocations', mesh: '' });
    expect(zoneTokenFamily).toEqual({ id: 'zone-token', label: 'zone token', keySecretPrefix: 'zone-token-signing-key-', revocationsSecret: 'zone-token-revocations', mesh: '' });
    expect(dataplaneTokenFamily('default')).toEqual({
      id: 'dataplane-token/default',
      label: 'dataplane token',
      keySecretPrefix: 'dataplane-token-signing-key-default-',
      revocationsSecret: 'dataplane-token-revocations-default',
      mesh: 'default',
    });
  });
});

describe('TokenFamilies', () => {
  it('resolves the secret names that are views onto keys and revocation lists, per mesh', async () => {
    const families = await open();
    const view = (mesh: string, name: string) => {
      const found = families.secretView(mesh, name);
      return found && { family: found.family.name.id, kind: found.kind, ...(found.kind === 'key' ? { serial: found.serial } : {}) };
    };
    expect(view('', 'user-token-signing-key-1')).toEqual({ family: 'user-token', kind: 'key', serial: 1 });
    expect(view('', 'user-token-signing-key-123456789')).toEqual({ family: 'user-token', kind: 'key', serial: 123_456_789 });
    expect(view('', 'zone-token-signing-key-20')).toEqual({ family: 'zone-token', kind: 'key', serial: 20 });
    expect(view('', 'user-token-revocations')).toEqual({ family: 'user-token', kind: 'revocations' });
    expect(view('', 'zone-token-revocations')).toEqual({ family: 'zone-token', kind: 'revocations' });
    expect(view('mesh-a', 'dataplane-token-signing-key-mesh-a-3')).toEqual({ family: 'dataplane-token/mesh-a', kind: 'key', serial: 3 });
    expect(view('mesh-a', 'dataplane-token-revocations-mesh-a')).toEqual({ family: 'dataplane-token/mesh-a', kind: 'revocations' });
    // Plain secrets, and another scope's names, are not views.
    for (const [mesh, name] of [
      ['', 'my-secret'],
      ['', 'dataplane-token-revocations-mesh-a'],
      ['mesh-a', 'user-token-signing-key-1'],
      ['mesh-a', 'user-token-revocations'],
      ['mesh-a', 'dataplane-token-revocations-mesh-b'],
    ] as const) {
      expect(view(mesh, name)).toBeUndefined();
    }
  });

  it.each(['0', '01', '-1', '1.5', 'x', '', ' 1', '1 ', '1234567890'])('refuses a key secret whose serial is %j with 400', async (serial) => {
    const families = await open();
    expect(() => families.secretView('', `user-token-signing-key-${serial}`)).toThrow(
      expect.objectContaining({
        code: 'ERR_BAD_REQUEST',
        message: `name: user-token-signing-key-{serial} needs a positive integer serial, got ${JSON.stringify(serial)}`,
      }),
    );
  });

  it('creates one dataplane family per mesh on first use, finds only those, and loads them again from the store', async () => {
    const families = await open();
    expect(families.findDataplane('mesh-a')).toBeUndefined();
    const a = families.dataplane('mesh-a');
    expect(families.dataplane('mesh-a')).toBe(a);
    expect(families.findDataplane('mesh-a')).toBe(a);
    expect(families.findDataplane('mesh-b')).toBeUndefined();
    expect(families.familiesIn('mesh-a')).toEqual([a.family]);
    expect(families.familiesIn('').map((f) => f.name.id)).toEqual(['user-token', 'zone-token']);
    await a.family.putKeyPem(1, keyPem);
    await families.user.family.putKeyPem(1, keyPem);
    await families.zone.family.putKeyPem(1, keyPem);
    const again = await open();
    expect(again.findDataplane('mesh-a')?.family.keys.list().map((k) => k.serial)).toEqual([1]);
    expect(again.findDataplane('mesh-b')).toBeUndefined();
    // The user and zone families' keys do not pass for a mesh's.
    expect(again.findDataplane('')).toBeUndefined();
  });

  it('gives each kind its own issuer and verifier over its own keys, naming the kind in refusals', async () => {
    const families = await open();
    await families.user.family.putKeyPem(1, keyPem);
    await families.zone.family.putKeyPem(1, keyPem);
    const mesh = families.dataplane('default');
    await mesh.family.putKeyPem(1, keyPem);
    const user = await families.user.issuer.issue({ Name: 'john', Groups: [] }, 60_000);
    const zone = await families.zone.issuer.issue({ Zone: 'zone-1', Scope: ['cp'] }, 60_000);
    const dataplane = await mesh.issuer.issue({ Name: 'web', Mesh: 'default', Tags: {}, Type: 'dataplane', Zone: '' }, 60_000);
    expect(families.user.verifier.verify(user).Name).toBe('john');
    expect(families.zone.verifier.verify(zone).Zone).toBe('zone-1');
    expect(mesh.verifier.verify(dataplane).Name).toBe('web');
    // Same key bytes, so only each kind's claims check tells them apart.
    expect(() => families.user.verifier.verify(zone)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_CLAIMS', message: 'user token has invalid claims: claim Name must be a non-empty string' }));
    expect(() => families.zone.verifier.verify(user)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_CLAIMS', message: 'zone token has invalid claims: claim Zone must be a non-empty string' }));
    expect(() => mesh.verifier.verify(user)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_CLAIMS', message: 'dataplane token has invalid claims: claim Mesh must be a non-empty string' }));
    await families.zone.family.deleteKey(1);
    await expect(families.zone.issuer.issue({ Zone: 'zone-1', Scope: ['cp'] }, 60_000)).rejects.toThrow('no private zone token signing key here to sign with');
  });

  it('refuses user tokens of a key refuseUserKey names, and only user tokens', async () => {
    const families = await open({ refuseUserKey: (key) => (key.serial === 1 ? 'cut off from global too long' : undefined) });
    await families.user.family.putKeyPem(1, keyPem);
    await families.zone.family.putKeyPem(1, keyPem);
    const user = await families.user.issuer.issue({ Name: 'john', Groups: [] }, 60_000);
    expect(() => families.user.verifier.verify(user)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_SYNC_STALE' }));
    expect(families.zone.verifier.verify(await families.zone.issuer.issue({ Zone: 'z', Scope: [] }, 60_000)).Zone).toBe('z');
  });

  it('logs every family\'s changes under its own id: memory follows the log', async () => {
    const families = await open();
    await families.user.family.revoke('a');
    await families.zone.family.revoke('b');
    expect((await store.read.changesAfter(0, 0, 10)).map((r) => [r.version, r.family, r.ref])).toEqual([
      [1, 'user-token', 'a'],
      [2, 'zone-token', 'b'],
    ]);
  });
});
