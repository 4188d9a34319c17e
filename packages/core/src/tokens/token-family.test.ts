import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { MeshAuthError } from '../errors.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { importSigningKey, parseKeyPem } from './signing-key.js';
import type { FamilyChange } from './token-family.js';
import { TokenFamilies } from './token-families.js';

/** A family's keys and revocations: one write path, store and memory kept the same. */
const clock = createManualClock(1_700_000_000_000);
const rsaPem = (bits = 2048) => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const spareKeyPem = rsaPem();
const otherKeyPem = rsaPem();
let dir: string;
let store: SqliteStore;
let families: TokenFamilies;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshauth-family-'));
  store = SqliteStore.open(join(dir, 'global.db'));
  families = new TokenFamilies({ store, clock });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const reopen = () => {
  store.close();
  store = SqliteStore.open(join(dir, 'global.db'));
  return new TokenFamilies({ store, clock });
};

describe('TokenFamily writes', () => {
  it('persists keys and revocations, and a new instance over the same file loads them', async () => {
    const user = families.user.family;
    await user.generateKey();
    user.putKeyPem(2, spareKeyPem);
    user.revoke('jti-a', 1_800_000_000_000);
    const again = reopen().user.family;
    expect(again.keys.list().map((k) => k.serial)).toEqual([1, 2]);
    expect(again.keys.signer?.serial).toBe(2);
    expect(again.revocations.has('jti-a')).toBe(true);
    expect(store.getRevocation('user-token', 'jti-a')).toMatchObject({ revokedAt: clock.now(), expiresAt: 1_800_000_000_000 });
  });

  it('never reuses a removed serial, across restarts too, so old tokens read as rotated out', async () => {
    const user = families.user.family;
    await user.generateKey();
    await user.generateKey();
    expect(user.keys.list().map((k) => k.serial)).toEqual([1, 2]);
    user.deleteKey(2);
    user.deleteKey(1);
    const again = reopen().user;
    expect((await again.family.generateKey()).serial).toBe(3);
    const token = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: '2', typ: 'JWT' })).toString('base64url')}.e30.c2ln`;
    expect(() => again.verifier.verify(token)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_KEY_ROTATED' }));
  });

  it('applies revocations staged in the store, as a snapshot and as a delta, in the same transaction as the keys', () => {
    const user = families.user.family;
    user.revoke('kept-local');
    const stage = (rows: { jti: string; op: 'put' | 'delete' }[]) =>
      store.transaction(() => store.stageRevocations(rows.map((r) => ({ ...r, expiresAt: null }))));

    stage([{ jti: 'a', op: 'put' }, { jti: 'b', op: 'put' }]);
    user.write({ replace: true, origin: 'synced', stagedRevocations: true, keysPut: [] });
    expect([...user.revocations.values()].sort()).toEqual(['a', 'b']);
    expect([...store.iterateStagedRevocations()]).toEqual([]);

    stage([{ jti: 'a', op: 'delete' }, { jti: 'c', op: 'put' }]);
    user.write({ origin: 'synced', stagedRevocations: true });
    expect([...user.revocations.values()].sort()).toEqual(['b', 'c']);
    expect([...reopen().user.family.revocations.values()].sort()).toEqual(['b', 'c']);
  });

  it('gives each write one change-log version, however many items it touches, and tells listeners', async () => {
    const user = families.user.family;
    const heard: FamilyChange[] = [];
    user.onChange((change) => heard.push(change));
    user.putKeyPem(1, spareKeyPem);
    user.replaceRevocations(['a', 'b', 'c']);
    user.replaceRevocations(['c', 'd']);
    expect(store.version).toBe(3);
    expect(heard.map((c) => c.version)).toEqual([1, 2, 3]);
    expect(heard[2]).toMatchObject({ revocationsAdded: [{ jti: 'd', expiresAt: null }], revocationsDeleted: ['a', 'b'] });
    expect(store.changesSince(2)).toEqual([
      { version: 3, entity: 'revocation', ref: 'a', op: 'delete' },
      { version: 3, entity: 'revocation', ref: 'b', op: 'delete' },
      { version: 3, entity: 'revocation', ref: 'd', op: 'put' },
    ]);
  });

  it('writes nothing for a change that changes nothing', () => {
    families.user.family.replaceRevocations([]);
    expect(families.user.family.revoke('x')).toBe(true);
    expect(families.user.family.revoke('x')).toBe(false);
    expect(store.version).toBe(1);
  });

  it('does not log zone-token or dataplane-token changes (zones mirror user tokens only)', async () => {
    families.zone.family.putKeyPem(1, spareKeyPem);
    families.dataplane('default').family.revoke('x');
    expect(store.version).toBe(0);
  });

  it('refuses a bad key with 400 and changes neither store nor memory', async () => {
    const user = families.user.family;
    user.putKeyPem(1, spareKeyPem);
    const weak = rsaPem(1024);
    for (const pem of ['junk', weak]) {
      expect(() => user.putKeyPem(2, pem)).toThrow(expect.objectContaining({ code: 'ERR_BAD_REQUEST' }));
    }
    expect(user.keys.list().map((k) => k.serial)).toEqual([1]);
    expect(store.listKeys('user-token').map((k) => k.serial)).toEqual([1]);
    expect(store.version).toBe(1);
  });

  it('leaves memory untouched when the transaction fails', async () => {
    const user = families.user.family;
    user.revoke('kept');
    store.db.exec("CREATE TRIGGER refuse BEFORE INSERT ON revocations WHEN NEW.jti = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END");
    expect(() => user.replaceRevocations(['boom'])).toThrow(/SQLITE_CONSTRAINT_TRIGGER; nothing was changed/);
    expect([...user.revocations.values()]).toEqual(['kept']);
    expect(store.countRevocations('user-token')).toBe(1);
    expect(store.version).toBe(1);
  });

  it('refuses API writes with 409 while managed by global', async () => {
    const user = families.user.family;
    user.managedBy = 'managed by the global control plane';
    for (const write of [() => user.revoke('x'), () => user.putKeyPem(1, spareKeyPem), () => user.deleteKey(1)]) {
      expect(write).toThrow(expect.objectContaining({ code: 'ERR_CONFLICT', message: 'user token keys and revocations are managed by the global control plane' }));
    }
    await expect(user.generateKey()).rejects.toBeInstanceOf(MeshAuthError);
  });

  it('drops revocations of tokens that have expired anyway', () => {
    const user = families.user.family;
    user.revoke('old', clock.now() - 1);
    user.revoke('current', clock.now() + 60_000);
    user.revoke('forever');
    expect(user.pruneExpiredRevocations()).toBe(1);
    expect([...user.revocations.values()].sort()).toEqual(['current', 'forever']);
    expect(store.countRevocations('user-token')).toBe(2);
  });
});

describe('verification', () => {
  it('touches no SQLite: it keeps working with the store closed', async () => {
    const user = families.user;
    user.family.putKeyPem(1, spareKeyPem);
    const good = await user.issuer.issue({ Name: 'john', Groups: [] }, 3_600_000);
    const revoked = await user.issuer.issue({ Name: 'jane', Groups: [] }, 3_600_000);
    user.family.revoke(JSON.parse(Buffer.from(revoked.split('.')[1]!, 'base64url').toString()).jti);
    store.close();
    expect(user.verifier.verify(good).Name).toBe('john');
    expect(() => user.verifier.verify(revoked)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_REVOKED' }));
  });

  it('follows writes at once: a deleted key refuses its tokens on the next call', async () => {
    const user = families.user;
    user.family.putKeyPem(1, spareKeyPem);
    const token = await user.issuer.issue({ Name: 'john', Groups: [] }, 3_600_000);
    user.verifier.verify(token);
    user.family.putKeyPem(2, otherKeyPem);
    user.family.deleteKey(1);
    expect(() => user.verifier.verify(token)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_KEY_ROTATED' }));
  });
});

describe('TokenFamily.write, as a zone applies what global sends', () => {
  const keyOf = (serial: number, pem: string) => importSigningKey({ serial, ...parseKeyPem(pem), createdAt: 0, origin: 'local' });

  it('replaces every key and revocation with a snapshot, in store and memory, marking them synced and logging nothing', () => {
    const user = new TokenFamilies({ store, clock }).user.family;
    user.putKeyPem(1, spareKeyPem);
    user.revoke('local-1');
    const before = store.version;
    user.write({ replace: true, origin: 'synced', keysPut: [keyOf(2, otherKeyPem)], revocationsAdded: [{ jti: 'global-1', expiresAt: 5 }] });
    expect(store.version).toBe(before);
    for (const family of [user, reopen().user.family]) {
      expect(family.keys.list().map((k) => [k.serial, k.origin])).toEqual([[2, 'synced']]);
      expect([...family.revocations.values()]).toEqual(['global-1']);
    }
    expect(store.listKeys('user-token').map((k) => k.origin)).toEqual(['synced']);
  });

  it('applies keys put and deleted together in one write, logging each', () => {
    const user = families.user.family;
    user.putKeyPem(1, spareKeyPem);
    const two = keyOf(2, otherKeyPem);
    const change = user.write({ keysPut: [two], keysDeleted: [1] });
    expect(user.keys.list().map((k) => k.serial)).toEqual([2]);
    expect(store.listKeys('user-token').map((k) => [k.serial, k.origin])).toEqual([[2, 'local']]);
    expect(store.changesSince(change.version - 1)).toEqual([
      { version: change.version, entity: 'key', ref: '1', op: 'delete' },
      { version: change.version, entity: 'key', ref: '2', op: 'put' },
    ]);
  });

  it('logs a key put as exactly that, and tells listeners no more', () => {
    const heard: FamilyChange[] = [];
    families.user.family.onChange((change) => heard.push(change));
    families.user.family.putKeyPem(1, spareKeyPem);
    expect(store.changesSince(0)).toEqual([{ version: 1, entity: 'key', ref: '1', op: 'put' }]);
    expect(heard.map((c) => ({ put: c.keysPut.map((k) => k.serial), deleted: c.keysDeleted }))).toEqual([{ put: [1], deleted: [] }]);
  });

  it('leaves revocations staged for one family alone when another family writes', () => {
    store.transaction(() => store.stageRevocations([{ jti: 'staged-for-user', op: 'put', expiresAt: null }]));
    const mesh = families.dataplane('default').family;
    mesh.revoke('dp-1');
    families.zone.family.putKeyPem(1, spareKeyPem);
    expect([...mesh.revocations.values()]).toEqual(['dp-1']);
    expect(store.getRevocation('dataplane-token/default', 'staged-for-user')).toBeUndefined();
    expect([...store.iterateStagedRevocations()].map((r) => r.jti)).toEqual(['staged-for-user']);
    families.user.family.write({ origin: 'synced', stagedRevocations: true });
    expect([...families.user.family.revocations.values()]).toEqual(['staged-for-user']);
  });

  it('runs alsoInTransaction with the write, also when the change is empty', () => {
    const user = families.user.family;
    let runs = 0;
    user.write({ alsoInTransaction: () => runs++ });
    user.write({ revocationsAdded: [{ jti: 'a', expiresAt: null }], alsoInTransaction: () => runs++ });
    expect(runs).toBe(2);
    const failing = () => {
      throw new Error('boom');
    };
    expect(() => user.write({ revocationsAdded: [{ jti: 'b', expiresAt: null }], alsoInTransaction: failing })).toThrow(/boom/);
    expect([...user.revocations.values()]).toEqual(['a']);
    expect(store.getRevocation('user-token', 'b')).toBeUndefined();
  });

  it('deleteKey answers false for a key it does not hold, writing nothing', () => {
    const user = families.user.family;
    expect(user.deleteKey(1)).toBe(false);
    user.putKeyPem(1, spareKeyPem);
    expect(user.deleteKey(1)).toBe(true);
    expect(store.version).toBe(2);
  });

  it('stops telling a listener once it unsubscribed', () => {
    const user = families.user.family;
    const heard: number[] = [];
    const stop = user.onChange((change) => heard.push(change.version));
    user.revoke('a');
    stop();
    user.revoke('b');
    expect(heard).toEqual([1]);
  });

  it('prunes only up to the limit it is given', () => {
    const user = families.user.family;
    for (const jti of ['a', 'b', 'c']) user.revoke(jti, clock.now() - 1);
    expect(user.pruneExpiredRevocations(2)).toBe(2);
    expect(user.revocations.size).toBe(1);
    expect(user.pruneExpiredRevocations()).toBe(1);
    expect(user.pruneExpiredRevocations()).toBe(0);
    expect(store.version).toBe(5);
  });
});
