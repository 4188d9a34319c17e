import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { badRequest } from '../errors.js';
import { publicKeyFromPem, spkiPemOf } from './public-key-cache.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export const MIN_RSA_BITS = 2048;

/** A signing key imported once: the KeyObjects are what every sign/verify reuses. */
export interface SigningKey {
  serial: number;
  publicKey: KeyObject;
  /** Absent for verify-only keys (a zone in `public` sync mode). */
  privateKey: KeyObject | undefined;
  publicPem: string;
  /** PKCS#1 (`RSA PRIVATE KEY`), as Kuma stores it. */
  privatePem: string | undefined;
  createdAt: number;
  origin: 'local' | 'synced';
}

export async function generateRsaPrivateKeyPem(bits = MIN_RSA_BITS): Promise<string> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: bits });
  return privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
}

/**
 * Accepts a private key (PKCS#1 or PKCS#8) or a public key (PKCS#1 or SPKI) PEM, refuses
 * anything that is not RSA of at least 2048 bits, and normalizes to PKCS#1 / SPKI.
 */
export function parseKeyPem(pem: string, field = 'data'): { publicPem: string; privatePem: string | undefined } {
  const text = pem.trim();
  let privateKey: KeyObject | undefined;
  let publicKey: KeyObject;
  try {
    if (/-----BEGIN (RSA )?PRIVATE KEY-----/.test(text)) {
      privateKey = createPrivateKey({ key: text, format: 'pem' });
      publicKey = createPublicKey(privateKey);
    } else if (/-----BEGIN (RSA )?PUBLIC KEY-----/.test(text)) {
      publicKey = publicKeyFromPem(text);
    } else {
      throw new Error('no PEM block');
    }
  } catch {
    throw badRequest(field, 'must be a PEM-encoded RSA private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8) or public key');
  }
  if (publicKey.asymmetricKeyType !== 'rsa') throw badRequest(field, `must be an RSA key, got ${publicKey.asymmetricKeyType}`);
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw badRequest(field, `RSA key must be at least ${MIN_RSA_BITS} bits, got ${bits}`);
  return {
    publicPem: spkiPemOf(publicKey),
    privatePem: privateKey ? (privateKey.export({ type: 'pkcs1', format: 'pem' }) as string) : undefined,
  };
}

export function importSigningKey(row: {
  serial: number;
  publicPem: string;
  privatePem: string | null | undefined;
  createdAt: number;
  origin: 'local' | 'synced';
}): SigningKey {
  return {
    serial: row.serial,
    publicKey: publicKeyFromPem(row.publicPem),
    privateKey: row.privatePem ? createPrivateKey(row.privatePem) : undefined,
    publicPem: row.publicPem,
    privatePem: row.privatePem ?? undefined,
    createdAt: row.createdAt,
    origin: row.origin,
  };
}
