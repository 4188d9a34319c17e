import { createPublicKey, type KeyObject } from 'node:crypto';

/** Distinct public keys remembered: a family holds a few, a process a few families. */
const CACHE_SIZE = 64;
const cache = new Map<string, KeyObject>();

/**
 * `createPublicKey(pem)`, parsed once per PEM text. OpenSSL's PEM decoding costs about a
 * millisecond, and the same few public keys are imported again and again: on every snapshot a
 * zone applies (checked, stored, then loaded back into memory), on every reload of a family. A
 * public KeyObject is immutable, so sharing one is safe.
 */
export function publicKeyFromPem(pem: string): KeyObject {
  let key = cache.get(pem);
  if (!key) {
    key = createPublicKey(pem);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(pem, key);
  }
  return key;
}

const spki = new WeakMap<KeyObject, string>();

/** The key as an SPKI PEM, exported once per KeyObject. */
export function spkiPemOf(key: KeyObject): string {
  let pem = spki.get(key);
  if (pem === undefined) {
    pem = key.export({ type: 'spki', format: 'pem' }) as string;
    spki.set(key, pem);
  }
  return pem;
}
