import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite-store.js';
import { generateCertificate } from '../tls/certificate.js';
import { generateCertificateAuthority } from '../tls/certificate-authority.js';
import { loadServerCertificate } from './server-certificate.js';

/** The generated 5682 certificate: a one-year leaf, kept in the store, replaced at start when due. */
const DAY_MS = 24 * 60 * 60 * 1000;
const start = new Date('2030-01-01T00:00:00Z');
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function openStore(): SqliteStore {
  const store = SqliteStore.open(':memory:');
  stores.push(store);
  return store;
}

const load = (store: SqliteStore, now: Date) => loadServerCertificate(store, { certFile: '', keyFile: '', now });
const daysAfterStart = (days: number) => new Date(start.getTime() + days * DAY_MS);

/** Puts a certificate where the plane keeps its generated one. */
async function storeCertificate(store: SqliteStore, cert: { certPem: string; keyPem: string }): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.setMeta('apiServer.tlsCertPem', cert.certPem);
    await tx.setMeta('apiServer.tlsKeyPem', cert.keyPem);
  });
}

describe('loadServerCertificate, generated', () => {
  it('generates a leaf valid for a year from now on first start, and stores it', async () => {
    const store = openStore();
    const first = await load(store, start);
    expect(first).toMatchObject({ origin: 'generated' });
    expect(first.renewed).toBeUndefined();
    const cert = new X509Certificate(first.cert);
    expect(cert.ca).toBe(false);
    expect(new Date(cert.validTo)).toEqual(daysAfterStart(365));
    expect(await store.read.getMeta('apiServer.tlsCertPem')).toBe(first.cert);
  });

  it('keeps the stored one while more than 30 days remain', async () => {
    const store = openStore();
    const first = await load(store, start);
    const later = await load(store, daysAfterStart(365 - 31));
    expect(later).toEqual(first);
  });

  it.each([
    ['fewer than 30 days remain', 365 - 29, /^it expires at 2031-01-01T00:00:00\.000Z, in under 30 days$/],
    ['it has expired', 400, /^it expired at 2031-01-01T00:00:00\.000Z$/],
  ])('regenerates it at start when %s, saying why', async (_when, days, reason) => {
    const store = openStore();
    const first = await load(store, start);
    const now = daysAfterStart(days);
    const renewed = await load(store, now);
    expect(renewed.renewed).toMatch(reason);
    expect(renewed.fingerprint256).not.toBe(first.fingerprint256);
    expect(renewed.key).not.toBe(first.key);
    expect(new Date(new X509Certificate(renewed.cert).validTo)).toEqual(new Date(now.getTime() + 365 * DAY_MS));
    // Stored: the next start serves the renewed certificate and renews nothing.
    expect(await load(store, now)).toEqual({ ...renewed, renewed: undefined });
  });

  it('regenerates a certificate made with a short validity as soon as it is loaded', async () => {
    const store = openStore();
    await storeCertificate(store, generateCertificate({ type: 'server', validDays: 2, now: start }));
    expect((await load(store, start)).renewed).toMatch(/in under 30 days/);
  });

  it('replaces a CA certificate an earlier version generated, though it is valid for years', async () => {
    const store = openStore();
    await storeCertificate(store, generateCertificateAuthority({ commonName: 'localhost', validDays: 3650, now: start }));
    const renewed = await load(store, start);
    expect(renewed.renewed).toMatch(/is a CA certificate/);
    expect(new X509Certificate(renewed.cert).ca).toBe(false);
  });
});
