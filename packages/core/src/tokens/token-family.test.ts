import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createManualClock } from '../clock.js';
import { MeshAuthError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { BULK_SLICE_ROWS } from '../yield-to-loop.js';
import { importSigningKey, parseKeyPem } from './signing-key.js';
import { RevocationSet } from './revocation-set.js';
import { BULK_CHANGE_ROWS, type FamilyChange, type SyncedBatch } from './token-family.js';
import { TokenFamilies } from './token-families.js';

/** A family's keys and revocations: one write path, store and memory kept the same. */
const clock = createManualClock(1_700_000_000_000);
const logger = createLogger({ level: 'silent', name: 'test' });
const rsaPem = (bits = 2048) => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const spareKeyPem = rsaPem();
const otherKeyPem = rsaPem();
let dir: string;
let store: SqliteStore;
let families: TokenFamilies;
/** Every store and family set opened by a test, closed after it (feeds first). */
const opened: { stores: SqliteStore[]; families: TokenFamilies[] } = { stores: [], families: [] };

const openFamilies = async (on: SqliteStore) => {
  const opening = await TokenFamilies.open({ store: on, clock, logger });
  opened.families.push(opening);
  return opening;
};
const openStore = () => {
  const opening = SqliteStore.open(join(dir, 'global.db'));
  opened.stores.push(opening);
  return opening;
};

/** Another store object on the file, as another process opens it, whose periodic catch-up is held still. */
const openReplicaHeldStill = async () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  try {
    return await openFamilies(openStore());
  } finally {
    vi.useRealTimers();
  }
};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshauth-family-'));
  store = openStore();
  families = await openFamilies(store);
});

afterEach(async () => {
  for (const f of opened.families.splice(0)) f.feed.stop();
  for (const s of opened.stores.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A restart: the store closed and opened again, the families loaded from it. */
const reopen = async () => {
  for (const f of opened.families.splice(0)) f.feed.stop();
  await store.close();
  store = openStore();
  return openFamilies(store);
};

/** The change rows after `version`, in log order. */
const changesSince = (version: number) => store.read.changesAfter(version, Number.MAX_SAFE_INTEGER, 1_000);
/** What a zone's receiver left in the staging table (read on the writer connection). */
const stagedRows = () => store.db.prepare('SELECT jti, op FROM staged_revocations').all();

const syncedBatch = (batch: Partial<SyncedBatch>): SyncedBatch => ({
  replace: false,
  keysPut: [],
  keysDeleted: [],
  revocationsAdded: [],
  revocationsDeleted: [],
  staged: false,
  ...batch,
});

describe('TokenFamily writes', () => {
  it('persists keys and revocations, and a new instance over the same file loads them', async () => {
    const user = families.user.family;
    await user.generateKey();
    await user.putKeyPem(2, spareKeyPem);
    await user.revoke('jti-a', 1_800_000_000_000);
    const again = (await reopen()).user.family;
    expect(again.keys.list().map((k) => k.serial)).toEqual([1, 2]);
    expect(again.keys.signer?.serial).toBe(2);
    expect(again.revocations.has('jti-a')).toBe(true);
    expect(await store.read.getRevocation('user-token', 'jti-a')).toMatchObject({ revokedAt: clock.now(), expiresAt: 1_800_000_000_000 });
  });

  it('never reuses a removed serial, across restarts too, so old tokens read as rotated out', async () => {
    const user = families.user.family;
    await user.generateKey();
    await user.generateKey();
    expect(user.keys.list().map((k) => k.serial)).toEqual([1, 2]);
    await user.deleteKey(2);
    await user.deleteKey(1);
    const again = (await reopen()).user;
    expect((await again.family.generateKey()).serial).toBe(3);
    const token = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: '2', typ: 'JWT' })).toString('base64url')}.e30.c2ln`;
    expect(() => again.verifier.verify(token)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_KEY_ROTATED' }));
  });

  it('says "rotated out" only for a serial removed here: a kid it never held is an unknown key, across restarts and snapshots too', async () => {
    const user = families.user.family;
    const kidToken = (kid: number) => `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: String(kid), typ: 'JWT' })).toString('base64url')}.e30.c2ln`;
    const refusalCode = (verify: (token: string) => unknown, kid: number) => {
      try {
        verify(kidToken(kid));
      } catch (error) {
        return (error as MeshAuthError).code;
      }
      return 'accepted';
    };
    await user.putKeyPem(3, spareKeyPem);
    await user.putKeyPem(5, otherKeyPem);
    await user.deleteKey(5);
    const codes = (verify: (token: string) => unknown) => [1, 2, 4, 5, 6].map((kid) => refusalCode(verify, kid));
    expect(codes((t) => families.user.verifier.verify(t))).toEqual(['ERR_TOKEN_KID', 'ERR_TOKEN_KID', 'ERR_TOKEN_KID', 'ERR_TOKEN_KEY_ROTATED', 'ERR_TOKEN_KID']);
    const again = await reopen();
    expect(codes((t) => again.user.verifier.verify(t))).toEqual(['ERR_TOKEN_KID', 'ERR_TOKEN_KID', 'ERR_TOKEN_KID', 'ERR_TOKEN_KEY_ROTATED', 'ERR_TOKEN_KID']);
    // A snapshot from global replaces the keys: key 3 was held here, so it is rotated out now; 4 arrives.
    const four = importSigningKey({ serial: 4, publicPem: parseKeyPem(otherKeyPem).publicPem, privatePem: null, createdAt: 0, origin: 'synced' });
    await again.user.family.applySynced({ replace: true, keysPut: [four], keysDeleted: [], revocationsAdded: [], revocationsDeleted: [], staged: false }, async () => {});
    expect(refusalCode((t) => again.user.verifier.verify(t), 3)).toBe('ERR_TOKEN_KEY_ROTATED');
    expect(refusalCode((t) => again.user.verifier.verify(t), 2)).toBe('ERR_TOKEN_KID');
    const third = await reopen();
    expect([2, 3, 5].map((kid) => refusalCode((t) => third.user.verifier.verify(t), kid))).toEqual(['ERR_TOKEN_KID', 'ERR_TOKEN_KEY_ROTATED', 'ERR_TOKEN_KEY_ROTATED']);
  });

  it('applies revocations staged in the store, as a snapshot and as a delta, in the same transaction as the keys', async () => {
    const user = families.user.family;
    await user.revoke('kept-local');
    const stage = (rows: { jti: string; op: 'put' | 'delete' }[]) => store.transaction((tx) => tx.stageRevocations(rows.map((r) => ({ ...r, expiresAt: null }))));
    const { publicPem } = parseKeyPem(spareKeyPem);
    const syncedKey = importSigningKey({ serial: 1, publicPem, privatePem: null, createdAt: 1, origin: 'synced' });

    await stage([{ jti: 'a', op: 'put' }, { jti: 'b', op: 'put' }]);
    let inTransaction = 0;
    await user.applySynced(syncedBatch({ replace: true, staged: true, keysPut: [syncedKey] }), async (tx) => {
      // The keys and the staged revocations are already written in this same transaction.
      expect((await tx.listKeys('user-token')).map((k) => [k.serial, k.origin])).toEqual([[1, 'synced']]);
      expect([...(await tx.revokedJtis('user-token'))].sort()).toEqual(['a', 'b']);
      inTransaction++;
    });
    expect(inTransaction).toBe(1);
    expect([...user.revocations.values()].sort()).toEqual(['a', 'b']);
    expect(user.keys.list().map((k) => [k.serial, k.origin])).toEqual([[1, 'synced']]);
    expect(stagedRows()).toEqual([]);

    await stage([{ jti: 'a', op: 'delete' }, { jti: 'c', op: 'put' }]);
    await user.applySynced(syncedBatch({ staged: true }), async () => {});
    expect([...user.revocations.values()].sort()).toEqual(['b', 'c']);
    expect(stagedRows()).toEqual([]);
    expect([...(await reopen()).user.family.revocations.values()].sort()).toEqual(['b', 'c']);
  });

  it('gives each write one change-log version, however many items it touches, and tells listeners', async () => {
    const user = families.user.family;
    const heard: FamilyChange[] = [];
    user.onChange((change) => heard.push(change));
    await user.putKeyPem(1, spareKeyPem);
    await user.replaceRevocations(RevocationSet.of(['a', 'b', 'c']));
    await user.replaceRevocations(RevocationSet.of(['c', 'd']));
    expect(await store.read.version()).toBe(3);
    expect(heard.map((c) => c.version)).toEqual([1, 2, 3]);
    expect(heard[2]).toMatchObject({ revocationsAdded: [{ jti: 'd', expiresAt: null }], revocationsDeleted: ['a', 'b'] });
    expect(await changesSince(2)).toMatchObject([
      { version: 3, family: 'user-token', entity: 'revocation', ref: 'a', op: 'delete' },
      { version: 3, family: 'user-token', entity: 'revocation', ref: 'b', op: 'delete' },
      { version: 3, family: 'user-token', entity: 'revocation', ref: 'd', op: 'put' },
    ]);
  });

  it('logs a replace of more than BULK_CHANGE_ROWS revocations as one reload row, which other replicas reload the family from', async () => {
    const user = families.user.family;
    const other = await openReplicaHeldStill();
    const heard: FamilyChange[] = [];
    user.onChange((change) => heard.push(change));
    const many = Array.from({ length: BULK_CHANGE_ROWS + 1 }, () => randomUUID());
    // Uppercase UUIDs and other jtis ride along as the strings they are; repeats count once.
    const listed = [...many, many[0]!, many[1]!.toUpperCase(), 'not-a-uuid'];
    await user.replaceRevocations(RevocationSet.of(listed));
    expect(await changesSince(0)).toEqual([expect.objectContaining({ version: 1, family: 'user-token', entity: 'family', ref: '', op: 'reload' })]);
    expect(heard).toMatchObject([{ version: 1, reloaded: true }]);
    expect(user.revocations.size).toBe(many.length + 2);
    expect(await store.read.countRevocations('user-token')).toBe(many.length + 2);
    await other.feed.catchUp();
    expect(other.user.family.revocations.size).toBe(many.length + 2);
    for (const jti of [many[5]!, many[1]!.toUpperCase(), 'not-a-uuid']) expect(other.user.family.revocations.has(jti)).toBe(true);
    expect(other.user.family.revocations.has(many[5]!.toUpperCase())).toBe(false);

    // A small replace after it: back to a row per change (only what differs is written).
    await user.replaceRevocations(RevocationSet.of([...many.slice(1), 'extra', many[1]!.toUpperCase(), 'not-a-uuid']));
    expect(await changesSince(1)).toMatchObject([
      { version: 2, entity: 'revocation', ref: many[0], op: 'delete' },
      { version: 2, entity: 'revocation', ref: 'extra', op: 'put' },
    ]);
    await other.feed.catchUp();
    expect(other.user.family.revocations.has(many[0]!)).toBe(false);
    expect(other.user.family.revocations.has('extra')).toBe(true);
  });

  it('still logs one reload row for a replace of whole slices past the point where it stopped listing jtis', async () => {
    // Four slices: the first two are listed (10,000 jtis), the third goes past BULK_CHANGE_ROWS and
    // the fourth is only counted. A count that lost track of it would log nothing at all.
    const user = families.user.family;
    const many = Array.from({ length: 4 * BULK_SLICE_ROWS }, () => randomUUID());
    await user.replaceRevocations(RevocationSet.of(many));
    expect(await changesSince(0)).toEqual([expect.objectContaining({ version: 1, entity: 'family', op: 'reload' })]);
    expect(user.revocations.size).toBe(many.length);
    expect(await store.read.countRevocations('user-token')).toBe(many.length);
  });

  it('logs a replace of exactly BULK_CHANGE_ROWS revocations a row each, so another replica applies it without reloading', async () => {
    const user = families.user.family;
    const other = await openReplicaHeldStill();
    const heard: FamilyChange[] = [];
    other.user.family.onChange((change) => heard.push(change));
    const many = Array.from({ length: BULK_CHANGE_ROWS }, () => randomUUID());
    await user.replaceRevocations(RevocationSet.of(many));
    const rows = await store.read.changesAfter(0, Number.MAX_SAFE_INTEGER, 2 * BULK_CHANGE_ROWS);
    expect(rows).toHaveLength(BULK_CHANGE_ROWS);
    expect(new Set(rows.map((r) => `${r.entity} ${r.op}`))).toEqual(new Set(['revocation put']));
    await other.feed.catchUp();
    expect(heard).toMatchObject([{ version: 1, reloaded: false }]);
    expect(heard[0]!.revocationsAdded).toHaveLength(BULK_CHANGE_ROWS);
    expect(other.user.family.revocations.size).toBe(BULK_CHANGE_ROWS);
  });

  it('logs a replace that drops more than BULK_CHANGE_ROWS revocations as one reload row too', async () => {
    const user = families.user.family;
    await user.replaceRevocations(RevocationSet.of(Array.from({ length: BULK_CHANGE_ROWS + 1 }, () => randomUUID())));
    const other = await openReplicaHeldStill();
    expect(other.user.family.revocations.size).toBe(BULK_CHANGE_ROWS + 1);
    await user.replaceRevocations(RevocationSet.of(['kept']));
    expect(await changesSince(1)).toEqual([expect.objectContaining({ version: 2, entity: 'family', op: 'reload' })]);
    await other.feed.catchUp();
    expect([...other.user.family.revocations.values()]).toEqual(['kept']);
  });

  it('takes a bulk replace into its own memory as the write built it, without reading it back from the store', async () => {
    const user = families.user.family;
    const reads = vi.spyOn(store.read, 'forEachRevokedJtiPage');
    const many = Array.from({ length: BULK_CHANGE_ROWS + 1 }, () => randomUUID());
    await user.replaceRevocations(RevocationSet.of([...many, 'not-a-uuid']));
    expect(reads).not.toHaveBeenCalled();
    expect(user.revocations.size).toBe(many.length + 1);
    expect([...user.revocations.sortedValues()]).toEqual([...(await store.transaction((tx) => tx.revokedJtis('user-token')))].sort());
    // The next reload is read from the store again (here: the family reloaded whole on a restart).
    const again = await reopen();
    expect(again.user.family.revocations.size).toBe(many.length + 1);
  });

  it('hands nothing to a later reload when a bulk replace fails to commit (its version number goes to the next write)', async () => {
    let failCommit = false;
    // The store as the family sees it: a transaction that runs whole and then fails to commit.
    const failing = new Proxy(store, {
      get(target, property, receiver) {
        if (property !== 'transaction') return Reflect.get(target, property, receiver);
        return <T>(fn: (tx: Parameters<Parameters<SqliteStore['transaction']>[0]>[0]) => Promise<T>) =>
          target.transaction(async (tx) => {
            const result = await fn(tx);
            if (failCommit) throw new Error('lost at commit');
            return result;
          });
      },
    });
    const onFailing = await openFamilies(failing);
    const user = onFailing.user.family;
    failCommit = true;
    await expect(user.replaceRevocations(RevocationSet.of(Array.from({ length: BULK_CHANGE_ROWS + 1 }, () => randomUUID())))).rejects.toThrow('lost at commit');
    failCommit = false;
    // Version 1 again, also a reload: memory must read what that write left, not the failed one's set.
    await user.applySynced(syncedBatch({ replace: true, revocationsAdded: [{ jti: 'synced', expiresAt: null }] }), async () => {});
    expect(await changesSince(0)).toEqual([expect.objectContaining({ version: 1, entity: 'family', op: 'reload' })]);
    expect([...user.revocations.values()]).toEqual(['synced']);
  });

  it('writes nothing for a change that changes nothing', async () => {
    await families.user.family.replaceRevocations(RevocationSet.of([]));
    expect(await store.read.version()).toBe(0);
    expect(await families.user.family.revoke('x')).toBe(true);
    expect(await families.user.family.revoke('x')).toBe(false);
    expect(await store.read.version()).toBe(1);
  });

  it('logs zone-token and dataplane-token changes under their own family, never as user-token changes (zones mirror user tokens only)', async () => {
    // Memory follows the log, so every family's writes are in it; what zones are sent is the
    // user-token family's rows only (global's sync filters the log by family).
    await families.zone.family.putKeyPem(1, spareKeyPem);
    await families.dataplane('default').family.revoke('x');
    const rows = await changesSince(0);
    expect(rows.map((r) => [r.family, r.entity, r.ref, r.op])).toEqual([
      ['zone-token', 'key', '1', 'put'],
      ['dataplane-token/default', 'revocation', 'x', 'put'],
    ]);
    expect(rows.filter((r) => r.family === 'user-token')).toEqual([]);
    expect(families.user.family.keys.size).toBe(0);
    expect(families.user.family.revocations.has('x')).toBe(false);
  });

  it('refuses a bad key with 400 and changes neither store nor memory', async () => {
    const user = families.user.family;
    await user.putKeyPem(1, spareKeyPem);
    const weak = rsaPem(1024);
    for (const pem of ['junk', weak]) {
      await expect(user.putKeyPem(2, pem)).rejects.toThrow(expect.objectContaining({ code: 'ERR_BAD_REQUEST' }));
    }
    expect(user.keys.list().map((k) => k.serial)).toEqual([1]);
    expect((await store.read.listKeys('user-token')).map((k) => k.serial)).toEqual([1]);
    expect(await store.read.version()).toBe(1);
  });

  it('leaves memory untouched when the transaction fails', async () => {
    const user = families.user.family;
    await user.revoke('kept');
    store.db.exec("CREATE TRIGGER refuse BEFORE INSERT ON revocations WHEN NEW.jti = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END");
    await expect(user.replaceRevocations(RevocationSet.of(['boom']))).rejects.toThrow(/SQLITE_CONSTRAINT_TRIGGER; nothing was changed/);
    await families.feed.catchUp();
    expect([...user.revocations.values()]).toEqual(['kept']);
    expect(await store.read.countRevocations('user-token')).toBe(1);
    expect(await store.read.version()).toBe(1);
  });

  it('refuses API writes with 409 while managed by global', async () => {
    const user = families.user.family;
    user.managedBy = 'managed by the global control plane';
    for (const write of [() => user.revoke('x'), () => user.putKeyPem(1, spareKeyPem), () => user.deleteKey(1)]) {
      await expect(write()).rejects.toThrow(expect.objectContaining({ code: 'ERR_CONFLICT', message: 'user token keys and revocations are managed by the global control plane' }));
    }
    await expect(user.generateKey()).rejects.toBeInstanceOf(MeshAuthError);
  });

  it('drops revocations of tokens that have expired anyway', async () => {
    const user = families.user.family;
    await user.revoke('old', clock.now() - 1);
    await user.revoke('current', clock.now() + 60_000);
    await user.revoke('forever');
    expect(await user.pruneExpiredRevocations()).toBe(1);
    expect([...user.revocations.values()].sort()).toEqual(['current', 'forever']);
    expect(await store.read.countRevocations('user-token')).toBe(2);
  });
});

describe('replicas on one store', () => {
  it('a revocation written through one instance reaches the memory of another opened on the same file once it reads the log', async () => {
    const first = families;
    await first.user.family.putKeyPem(1, spareKeyPem);
    const token = await first.user.issuer.issue({ Name: 'john', Groups: [] }, 3_600_000);
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;

    // Another store object on the file (as another process would open it): no in-process hint
    // reaches it, and its periodic catch-up is held still, so only reading the log can move it.
    const second = await openReplicaHeldStill();
    expect(second.user.verifier.verify(token).Name).toBe('john');

    const heard: FamilyChange[] = [];
    second.user.family.onChange((change) => heard.push(change));
    expect(await first.user.family.revoke(jti)).toBe(true);
    expect(first.user.family.revocations.has(jti)).toBe(true);
    expect(second.user.family.revocations.has(jti)).toBe(false);

    await second.feed.catchUp();
    expect(second.user.family.revocations.has(jti)).toBe(true);
    expect(second.feed.version).toBe(await store.read.version());
    expect(heard).toMatchObject([{ version: 2, revocationsAdded: [{ jti, expiresAt: null }] }]);
    expect(() => second.user.verifier.verify(token)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_REVOKED' }));
  });
});

describe('verification', () => {
  it('touches no SQLite: it keeps working with the store closed', async () => {
    const user = families.user;
    await user.family.putKeyPem(1, spareKeyPem);
    const good = await user.issuer.issue({ Name: 'john', Groups: [] }, 3_600_000);
    const revoked = await user.issuer.issue({ Name: 'jane', Groups: [] }, 3_600_000);
    await user.family.revoke(JSON.parse(Buffer.from(revoked.split('.')[1]!, 'base64url').toString()).jti);
    families.feed.stop();
    await store.close();
    expect(user.verifier.verify(good).Name).toBe('john');
    expect(() => user.verifier.verify(revoked)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_REVOKED' }));
  });

  it('follows writes at once: a deleted key refuses its tokens on the next call', async () => {
    const user = families.user;
    await user.family.putKeyPem(1, spareKeyPem);
    const token = await user.issuer.issue({ Name: 'john', Groups: [] }, 3_600_000);
    user.verifier.verify(token);
    await user.family.putKeyPem(2, otherKeyPem);
    await user.family.deleteKey(1);
    expect(() => user.verifier.verify(token)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_KEY_ROTATED' }));
  });
});

describe('TokenFamily, what each write records', () => {
  it('gives every generated key a new serial, the third one too', async () => {
    const user = families.user.family;
    const serials = [];
    for (let i = 0; i < 3; i++) serials.push((await user.generateKey()).serial);
    expect(serials).toEqual([1, 2, 3]);
    expect(user.keys.list().map((k) => k.serial)).toEqual([1, 2, 3]);
    expect((await store.read.listKeys('user-token')).map((k) => k.serial)).toEqual([1, 2, 3]);
  });

  it('deletes an absent key as a no-op: false, nothing logged, its `also` not run', async () => {
    const user = families.user.family;
    await user.putKeyPem(1, spareKeyPem);
    let also = 0;
    expect(await user.deleteKey(7, async () => void also++)).toBe(false);
    expect(also).toBe(0);
    expect(await store.read.version()).toBe(1);
    // Nor is 7 recorded as removed: a token naming it is from a key never held here.
    expect(await store.read.getMeta('removedSerials/user-token')).toBe('[]');
    expect(await user.deleteKey(1, async () => void also++)).toBe(true);
    expect(also).toBe(1);
    expect((await changesSince(1)).map((r) => [r.entity, r.ref, r.op])).toEqual([['key', '1', 'delete']]);
  });

  it('logs a revocation with the expiry it was given, so every replica and zone can prune it when the token expires', async () => {
    const user = families.user.family;
    const other = await openReplicaHeldStill();
    const heard: FamilyChange[] = [];
    other.user.family.onChange((change) => heard.push(change));
    const exp = clock.now() + 60_000;
    expect(await user.revokeMany(async () => [{ jti: 'a', expiresAt: exp }, { jti: 'b', expiresAt: null }])).toEqual(['a', 'b']);
    expect((await changesSince(0)).map((r) => [r.ref, r.op, r.expiresAt])).toEqual([['a', 'put', exp], ['b', 'put', null]]);
    await other.feed.catchUp();
    expect(heard).toEqual([
      { version: 1, keysPut: [], keysDeleted: [], revocationsAdded: [{ jti: 'a', expiresAt: exp }, { jti: 'b', expiresAt: null }], revocationsDeleted: [], reloaded: false },
    ]);
  });

  it('stops telling a listener once it unsubscribed', async () => {
    const user = families.user.family;
    const heard: number[] = [];
    const off = user.onChange((change) => heard.push(change.version));
    await user.revoke('a');
    off();
    await user.revoke('b');
    expect(heard).toEqual([1]);
  });

  it('reloads every family from the store when its memory fell behind what the change log still holds', async () => {
    const other = await openReplicaHeldStill();
    const applied: { version: number; reloadedAll: boolean }[] = [];
    other.feed.onApplied(({ version, reloadedAll }) => applied.push({ version, reloadedAll }));
    await families.user.family.revoke('user-1');
    await families.zone.family.revoke('zone-1');
    await families.user.family.revoke('user-2');
    // The leader's pruning, while the other replica was away: versions 1 and 2 are gone from the log.
    await store.transaction((tx) => tx.pruneChangeLog(1));
    await other.feed.catchUp();
    expect(applied).toEqual([{ version: 3, reloadedAll: true }]);
    expect([...other.user.family.revocations.values()].sort()).toEqual(['user-1', 'user-2']);
    expect([...other.zone.family.revocations.values()]).toEqual(['zone-1']);
    // Then on from the log as usual.
    await families.zone.family.revoke('zone-2');
    await other.feed.catchUp();
    expect(applied.at(-1)).toEqual({ version: 4, reloadedAll: false });
    expect(other.zone.family.revocations.has('zone-2')).toBe(true);
  });

  it('caughtUp resolves once memory shows what another replica committed', async () => {
    const other = await openReplicaHeldStill();
    await families.user.family.revoke('elsewhere');
    expect(other.user.family.revocations.has('elsewhere')).toBe(false);
    await other.user.family.caughtUp();
    expect(other.user.family.revocations.has('elsewhere')).toBe(true);
  });

  it('says 409 when a key it just wrote was removed by another replica before its memory read the log', async () => {
    const user = families.user.family;
    const other = await openReplicaHeldStill();
    const untilApplied = families.feed.untilApplied.bind(families.feed);
    // The race: our commit is in; another replica deletes the key, and our memory reads both
    // versions before this write looks for its key.
    vi.spyOn(families.feed, 'untilApplied').mockImplementationOnce(async () => {
      await other.user.family.deleteKey(1);
      return untilApplied(await store.read.version());
    });
    await expect(user.putKeyPem(1, spareKeyPem)).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_CONFLICT', message: 'user token signing key 1 was removed by a concurrent change' }),
    );
    expect(user.keys.size).toBe(0);
  });
});

describe('TokenFamily.applySynced, a delta', () => {
  const syncedKey = (serial: number, pem: string, withPrivate: boolean) => {
    const { publicPem, privatePem } = parseKeyPem(pem);
    return importSigningKey({ serial, publicPem, privatePem: withPrivate ? (privatePem ?? null) : null, createdAt: 5, origin: 'synced' });
  };

  it('applies keys and revocations put and deleted, logs a row for each change, and keeps them across a restart', async () => {
    const user = families.user.family;
    await user.applySynced(syncedBatch({ replace: true, keysPut: [syncedKey(1, spareKeyPem, false)], revocationsAdded: [{ jti: 'old', expiresAt: null }] }), async () => {});
    const before = await store.read.version();
    const heard: FamilyChange[] = [];
    user.onChange((change) => heard.push(change));
    const exp = clock.now() + 60_000;
    await user.applySynced(
      syncedBatch({ keysPut: [syncedKey(2, otherKeyPem, true)], keysDeleted: [1], revocationsAdded: [{ jti: 'new', expiresAt: exp }], revocationsDeleted: ['old'] }),
      async () => {},
    );
    expect((await changesSince(before)).map((r) => [r.entity, r.ref, r.op, r.expiresAt])).toEqual([
      ['key', '1', 'delete', null],
      ['key', '2', 'put', null],
      ['revocation', 'old', 'delete', null],
      ['revocation', 'new', 'put', exp],
    ]);
    expect(heard).toMatchObject([{ reloaded: false, keysDeleted: [1], revocationsAdded: [{ jti: 'new', expiresAt: exp }], revocationsDeleted: ['old'] }]);
    expect(user.keys.list().map((k) => k.serial)).toEqual([2]);
    // A private-mode key arrives with its private half: this zone signs with it.
    expect(user.keys.signer?.serial).toBe(2);
    expect([...user.revocations.values()]).toEqual(['new']);
    expect(await store.read.getRevocation('user-token', 'new')).toMatchObject({ revokedAt: clock.now(), expiresAt: exp });
    const again = (await reopen()).user.family;
    expect(again.keys.signer?.serial).toBe(2);
    expect([...again.revocations.values()]).toEqual(['new']);
    // The record of removed serials names what was removed, never a key still held.
    const removedRecord = async () => JSON.parse((await store.read.getMeta('removedSerials/user-token')) ?? 'null') as number[] | null;
    expect(await removedRecord()).toEqual([1]);
    await again.applySynced(syncedBatch({ replace: true, keysPut: [syncedKey(2, otherKeyPem, true), syncedKey(3, spareKeyPem, false)] }), async () => {});
    expect(await removedRecord()).toEqual([1]);
    await again.applySynced(syncedBatch({ revocationsAdded: [{ jti: 'later', expiresAt: null }] }), async () => {});
    expect(await removedRecord()).toEqual([1]);
  });

  it('logs only what changed: a revocation already held is not logged again', async () => {
    const user = families.user.family;
    await user.applySynced(syncedBatch({ revocationsAdded: [{ jti: 'a', expiresAt: null }] }), async () => {});
    await user.applySynced(syncedBatch({ revocationsAdded: [{ jti: 'a', expiresAt: null }, { jti: 'b', expiresAt: null }] }), async () => {});
    expect((await changesSince(1)).map((r) => [r.ref, r.op])).toEqual([['b', 'put']]);
  });

  it('leaves alone revocations staged by a batch that never finished arriving', async () => {
    const user = families.user.family;
    await store.transaction((tx) => tx.stageRevocations([{ jti: 'half-received', op: 'put', expiresAt: null }]));
    await user.applySynced(syncedBatch({ revocationsAdded: [{ jti: 'a', expiresAt: null }] }), async () => {});
    expect([...user.revocations.values()]).toEqual(['a']);
    expect(await store.read.countRevocations('user-token')).toBe(1);
    expect(stagedRows()).toEqual([{ jti: 'half-received', op: 'put' }]);
  });
});

describe('serial history', () => {
  const kidToken = (kid: number) => `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: String(kid), typ: 'JWT' })).toString('base64url')}.e30.c2ln`;
  const refusals = (opened: TokenFamilies, kids: number[]) =>
    kids.map((kid) => {
      try {
        opened.user.verifier.verify(kidToken(kid));
        return 'accepted';
      } catch (error) {
        return (error as MeshAuthError).code;
      }
    });
  const removedRecord = async () => JSON.parse((await store.read.getMeta('removedSerials/user-token')) ?? 'null') as number[] | null;

  it('counts the highest serial ever stored, even when a lower one is stored after it', async () => {
    const user = families.user.family;
    expect(user.store).toBe(store);
    await user.putKeyPem(5, spareKeyPem);
    await user.putKeyPem(2, otherKeyPem);
    await user.deleteKey(5);
    // 5 was used: the next keys are 6 and 7, never 3, 4 and then 5 again.
    expect((await user.generateKey()).serial).toBe(6);
    expect((await user.generateKey()).serial).toBe(7);
    expect(refusals(await reopen(), [5])).toEqual(['ERR_TOKEN_KEY_ROTATED']);
  });

  it('keeps the record of removed serials when later keys are stored', async () => {
    const user = families.user.family;
    await user.putKeyPem(3, spareKeyPem);
    await user.deleteKey(3);
    await user.putKeyPem(4, otherKeyPem);
    await user.generateKey();
    expect(await removedRecord()).toEqual([3]);
    expect(refusals(await reopen(), [3, 4, 5, 6])).toEqual(['ERR_TOKEN_KEY_ROTATED', 'ERR_TOKEN_SIGNATURE', 'ERR_TOKEN_SIGNATURE', 'ERR_TOKEN_KID']);
  });

  it('keeps the removals recorded in a store older still, one that never noted its highest serial', async () => {
    const user = families.user.family;
    await user.putKeyPem(2, spareKeyPem);
    await user.putKeyPem(4, otherKeyPem);
    await store.transaction(async (tx) => {
      await tx.deleteMeta('removedSerials/user-token');
      await tx.deleteMeta('highestSerial/user-token');
    });
    const old = await reopen();
    await old.user.family.deleteKey(2);
    expect(await removedRecord()).toEqual([2]);
    await store.transaction((tx) => tx.deleteMeta('highestSerial/user-token'));
    await old.user.family.putKeyPem(5, spareKeyPem);
    expect(await removedRecord()).toEqual([2]);
    expect(refusals(await reopen(), [2, 3])).toEqual(['ERR_TOKEN_KEY_ROTATED', 'ERR_TOKEN_KID']);
  });

  it('reads a store written before removals were recorded: every serial up to the highest that it does not hold counts as removed', async () => {
    const user = families.user.family;
    await user.putKeyPem(2, spareKeyPem);
    await user.putKeyPem(4, otherKeyPem);
    // What such a store holds: the highest serial ever used, no record of removals.
    await store.transaction(async (tx) => {
      await tx.deleteMeta('removedSerials/user-token');
      await tx.setMeta('highestSerial/user-token', '5');
    });
    const legacy = await reopen();
    expect(refusals(legacy, [1, 2, 3, 4, 5, 6])).toEqual(['ERR_TOKEN_KEY_ROTATED', 'ERR_TOKEN_SIGNATURE', 'ERR_TOKEN_KEY_ROTATED', 'ERR_TOKEN_SIGNATURE', 'ERR_TOKEN_KEY_ROTATED', 'ERR_TOKEN_KID']);
    // Storing a key there does not start an empty record over what the highest serial tells.
    await legacy.user.family.putKeyPem(7, spareKeyPem);
    expect(await removedRecord()).toBeNull();
    // The first removal writes the record from what the store could tell (every serial below the
    // highest, 7 now, not held), plus the removed serial.
    await legacy.user.family.deleteKey(4);
    expect(await removedRecord()).toEqual([1, 3, 4, 5, 6]);
    expect(refusals(await reopen(), [1, 4, 6, 7, 8])).toEqual(['ERR_TOKEN_KEY_ROTATED', 'ERR_TOKEN_KEY_ROTATED', 'ERR_TOKEN_KEY_ROTATED', 'ERR_TOKEN_SIGNATURE', 'ERR_TOKEN_KID']);
  });
});
