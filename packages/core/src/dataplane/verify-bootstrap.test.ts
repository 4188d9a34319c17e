import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { SecretViews } from '../api/secret-views.js';
import { createLogger } from '../observability/logger.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { decodeJws, signRs256 } from '../tokens/jws-rs256.js';
import { generateRsaPrivateKeyPem } from '../tokens/signing-key.js';
import { IssuedTokenRecords } from '../tokens/issued-token-records.js';
import { TokenFamilies } from '../tokens/token-families.js';
import { BootstrapRefusal, type BootstrapRefusalReason } from './bootstrap-refusal.js';
import { issueDataplaneToken, type DataplaneTokenRequest } from './issue-dataplane-token.js';
import { verifyBootstrap, type BootstrapRequest } from './verify-bootstrap.js';

const logger = createLogger({ level: 'silent', name: 'test' });
const HOUR = 3_600_000;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The families as a (re)started plane loads them from `store`; closed after the test. */
async function openFamilies(store: SqliteStore, clock: ReturnType<typeof createManualClock>): Promise<TokenFamilies> {
  const families = await TokenFamilies.open({ store, clock, logger });
  cleanups.push(() => families.feed.stop());
  return families;
}

/** One plane's store and families on a real SQLite file, with time that moves only when told. */
async function plane(zone: string) {
  const dir = mkdtempSync(join(tmpdir(), 'meshauth-dp-'));
  const store = SqliteStore.open(join(dir, 'zone.db'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
  const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const families = await openFamilies(store, clock);
  const views = new SecretViews(store, families, clock.now);
  const unaudited = async () => {};
  const secrets = {
    get: (mesh: string, name: string) => views.get(mesh, name),
    put: (mesh: string, name: string, data: Buffer) => views.put(mesh, name, data, unaudited),
    delete: (mesh: string, name: string) => views.delete(mesh, name, unaudited),
  };
  const records = await IssuedTokenRecords.open({ store, clock, instance: 'test', maxValidForMs: 24 * HOUR });
  const issue = (request: Partial<DataplaneTokenRequest> = {}) =>
    issueDataplaneToken(
      { families, records, zone, logger },
      { name: 'web-1', mesh: 'default', tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', validForMs: HOUR, ...request },
      { issuedBy: 'test' },
    );
  const bootstrap = (token: string, request: Partial<BootstrapRequest> = {}) =>
    verifyBootstrap(families, zone, { mesh: 'default', name: 'web-1', dataplaneToken: token, ...request });
  return { dir, store, clock, families, secrets, issue, bootstrap };
}

function refusalOf(fn: () => unknown): BootstrapRefusal {
  try {
    fn();
  } catch (error) {
    if (error instanceof BootstrapRefusal) return error;
    throw error;
  }
  throw new Error('expected a BootstrapRefusal');
}

function expectRefused(fn: () => unknown, reason: BootstrapRefusalReason, detail: RegExp): void {
  const refusal = refusalOf(fn);
  expect({ reason: refusal.reason, status: refusal.status }).toEqual({ reason, status: 401 });
  expect(refusal.message).toMatch(detail);
}

describe('verifyBootstrap', () => {
  it('grants the identity a valid token names', async () => {
    const zone1 = await plane('zone-1');
    const token = await zone1.issue();
    expect(zone1.bootstrap(token)).toEqual({ mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', zone: 'zone-1' });
    expect(decodeJws(token).header).toEqual({ alg: 'RS256', kid: '1', typ: 'JWT' });
  });

  it('refuses an expired token', async () => {
    const zone1 = await plane('zone-1');
    const token = await zone1.issue();
    zone1.clock.advance(HOUR);
    expectRefused(() => zone1.bootstrap(token), 'expired', /expired at 2026-01-01T01:00:00.000Z/);
  });

  it('refuses a token revoked through the mesh secret dataplane-token-revocations-{mesh}', async () => {
    const zone1 = await plane('zone-1');
    const token = await zone1.issue();
    const other = await zone1.issue({ name: 'web-2' });
    const jti = decodeJws(token).payload.jti as string;
    expect(await zone1.secrets.put('default', 'dataplane-token-revocations-default', Buffer.from(`${jti}`))).toBe(true);
    expectRefused(() => zone1.bootstrap(token), 'revoked', /revoked/);
    expect(zone1.bootstrap(other, { name: 'web-2' }).name).toBe('web-2');
    // The revocation is stored, not just held in memory: a restarted plane still refuses.
    const reopened = await openFamilies(zone1.store, zone1.clock);
    expect(() => verifyBootstrap(reopened, 'zone-1', { mesh: 'default', name: 'web-1', dataplaneToken: token })).toThrow(/revoked/);
  });

  it('refuses a token from another zone, whether or not this zone has keys for the mesh', async () => {
    const zone1 = await plane('zone-1');
    const zone2 = await plane('zone-2');
    const token = await zone1.issue();
    expectRefused(() => zone2.bootstrap(token), 'foreign-zone', /not issued by zone zone-2/);
    await zone2.issue();
    expectRefused(() => zone2.bootstrap(token), 'foreign-zone', /signature is invalid: it was not issued by zone zone-2/);
  });

  it('refuses a token whose Zone claim names another zone even when the key was copied over', async () => {
    const zone1 = await plane('zone-1');
    const zone2 = await plane('zone-2');
    const token = await zone1.issue();
    await zone2.secrets.put('default', 'dataplane-token-signing-key-default-1', (await zone1.secrets.get('default', 'dataplane-token-signing-key-default-1'))!.data);
    expectRefused(() => zone2.bootstrap(token), 'foreign-zone', /issued for zone zone-1, not zone zone-2/);
  });

  it('refuses a token presented for another mesh or another name', async () => {
    const zone1 = await plane('zone-1');
    const token = await zone1.issue();
    await zone1.issue({ mesh: 'payments' });
    expectRefused(() => zone1.bootstrap(token, { mesh: 'payments' }), 'other-mesh', /for mesh default, not payments/);
    expectRefused(() => zone1.bootstrap(token, { name: 'web-2' }), 'other-name', /for dataplane "web-1", not "web-2"/);
  });

  it('refuses malformed tokens and tokens of a mesh it never heard of without remembering that mesh', async () => {
    const zone1 = await plane('zone-1');
    expectRefused(() => zone1.bootstrap('not-a-token'), 'malformed', /malformed/);
    expectRefused(() => zone1.bootstrap('x'.repeat(9000)), 'malformed', /larger than 8192 bytes/);
    const noMesh = await signRs256({ alg: 'RS256', kid: '1', typ: 'JWT' }, { Name: 'web-1' }, (await zone1.families.dataplane('default').family.generateKey()).privateKey!);
    expectRefused(() => zone1.bootstrap(noMesh), 'malformed', /claim Mesh/);
    const invented = `${Buffer.from('{"alg":"RS256","kid":"1"}').toString('base64url')}.${Buffer.from('{"Mesh":"invented"}').toString('base64url')}.c2ln`;
    expectRefused(() => zone1.bootstrap(invented, { mesh: 'invented' }), 'foreign-zone', /mesh invented was not issued/);
    expect(zone1.families.findDataplane('invented')).toBeUndefined();
  });
});

describe('dataplane signing keys', () => {
  it('rotate like user-token keys: the highest serial signs, every key present verifies', async () => {
    const zone1 = await plane('zone-1');
    const first = await zone1.issue();
    const family = zone1.families.dataplane('default').family;
    const pem2 = await generateRsaPrivateKeyPem();
    // Kuma's interface: a PEM stored as mesh secret dataplane-token-signing-key-{mesh}-{N}.
    expect(await zone1.secrets.put('default', 'dataplane-token-signing-key-default-2', Buffer.from(pem2))).toBe(true);
    const second = await zone1.issue();
    expect(decodeJws(second).header.kid).toBe('2');
    expect(zone1.bootstrap(first).name).toBe('web-1');
    expect(zone1.bootstrap(second).name).toBe('web-1');
    await zone1.secrets.delete('default', 'dataplane-token-signing-key-default-1');
    expectRefused(() => zone1.bootstrap(first), 'key-rotated', /signing key 1, which has been rotated out/);
    expect(zone1.bootstrap(second).name).toBe('web-1');
  });

  it('are created once per mesh, even by concurrent first requests', async () => {
    const zone1 = await plane('zone-1');
    const tokens = await Promise.all([zone1.issue(), zone1.issue({ name: 'web-2' }), zone1.issue({ mesh: 'payments' })]);
    expect((await zone1.store.read.listKeys('dataplane-token/default')).map((k) => k.serial)).toEqual([1]);
    expect((await zone1.store.read.listKeys('dataplane-token/payments')).map((k) => k.serial)).toEqual([1]);
    expect(zone1.bootstrap(tokens[0]!).name).toBe('web-1');
    expect(zone1.bootstrap(tokens[1]!, { name: 'web-2' }).name).toBe('web-2');
    expect(zone1.bootstrap(tokens[2]!, { mesh: 'payments' }).mesh).toBe('payments');
    // Two meshes, two keys: a token of one mesh names a serial the other mesh's key does not verify.
    const pem = async (mesh: string) => (await zone1.store.read.listKeys(`dataplane-token/${mesh}`))[0]!.publicPem;
    expect(await pem('default')).not.toBe(await pem('payments'));
  });

  it('never enter the change log zones are synced from', async () => {
    const zone1 = await plane('zone-1');
    const before = await zone1.store.read.version();
    const token = await zone1.issue();
    await zone1.families.dataplane('default').family.generateKey();
    await zone1.secrets.put('default', 'dataplane-token-revocations-default', Buffer.from(decodeJws(token).payload.jti as string));
    // Memory follows the log, so the mesh family's changes are in it, under the mesh family's id;
    // zones are synced the user-token family's rows only, and there are none.
    const rows = await zone1.store.read.changesAfter(before, Number.MAX_SAFE_INTEGER, 1_000);
    expect(new Set(rows.map((r) => r.family))).toEqual(new Set(['dataplane-token/default']));
    expect((await zone1.store.read.changesAfter(0, Number.MAX_SAFE_INTEGER, 1_000)).filter((r) => r.family === 'user-token')).toEqual([]);
    expect(zone1.families.user.family.keys.size + zone1.families.user.family.revocations.size).toBe(0);
    expect(zone1.families.familiesIn('')).not.toContain(zone1.families.dataplane('default').family);
  });

  it('are found again after a restart', async () => {
    const zone1 = await plane('zone-1');
    const token = await zone1.issue();
    const reopened = await openFamilies(zone1.store, zone1.clock);
    expect(verifyBootstrap(reopened, 'zone-1', { mesh: 'default', name: 'web-1', dataplaneToken: token }).zone).toBe('zone-1');
  });
});
