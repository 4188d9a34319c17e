import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyRing } from './key-ring.js';
import { importSigningKey, type SigningKey } from './signing-key.js';

// One RSA pair serves every serial: the ring only looks at serials and whether a private key is held.
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const key = (serial: number, withPrivate = true): SigningKey =>
  importSigningKey({ serial, publicPem, privatePem: withPrivate ? privatePem : null, createdAt: 0, origin: 'local' });

const serials = (ring: KeyRing) => ring.list().map((k) => k.serial);

describe('KeyRing', () => {
  it('signs with the highest serial holding a private key, whatever order the keys came in', () => {
    for (const order of [
      [2, 10, 1],
      [10, 2, 1],
      [1, 2, 10],
      [2, 1, 10],
    ]) {
      const ring = new KeyRing();
      for (const serial of order) ring.set(key(serial));
      expect({ order, signer: ring.signer?.serial }).toEqual({ order, signer: 10 });
      expect(serials(ring)).toEqual([1, 2, 10]);
    }
  });

  it('passes over verify-only keys when choosing the signer, and has none without a private key', () => {
    const ring = new KeyRing();
    ring.set(key(3, false));
    expect(ring.signer).toBeUndefined();
    ring.set(key(1));
    ring.set(key(5, false));
    expect(ring.signer?.serial).toBe(1);
    ring.set(key(2));
    expect(ring.signer?.serial).toBe(2);
  });

  it('chooses again when the signer is removed or replaced by a verify-only key', () => {
    const ring = new KeyRing();
    ring.replaceAll([key(1), key(3), key(2)]);
    expect(ring.signer?.serial).toBe(3);
    ring.delete(3);
    expect(ring.signer?.serial).toBe(2);
    ring.set(key(2, false));
    expect(ring.signer?.serial).toBe(1);
    ring.delete(1);
    expect(ring.signer).toBeUndefined();
    expect(serials(ring)).toEqual([2]);
  });

  it('replaceAll drops the keys it is not given', () => {
    const ring = new KeyRing();
    ring.set(key(1));
    ring.set(key(4));
    const two = key(2);
    ring.replaceAll([two]);
    expect(serials(ring)).toEqual([2]);
    expect(ring.size).toBe(1);
    expect(ring.get(2)).toBe(two);
    expect(ring.get(4)).toBeUndefined();
    expect(ring.signer).toBe(two);
  });

  it('remembers exactly the serials it held and removed, and those the store remembers; a serial never held is not removed', () => {
    const ring = new KeyRing();
    ring.set(key(2));
    ring.set(key(7, false));
    ring.delete(7);
    ring.delete(5);
    expect([1, 2, 5, 7].filter((s) => ring.wasRemoved(s))).toEqual([7]);
    ring.replaceAll([key(1)]);
    expect([1, 2, 5, 7].filter((s) => ring.wasRemoved(s))).toEqual([2, 7]);
    ring.rememberRemoved([9]);
    expect(ring.wasRemoved(9)).toBe(true);
    expect(ring.wasRemoved(8)).toBe(false);
    ring.set(key(7));
    expect(ring.wasRemoved(7)).toBe(false);
    expect(ring.size).toBe(2);
  });
});
