import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MeshAuthError } from '../errors.js';
import { generateRsaPrivateKeyPem, importSigningKey, MIN_RSA_BITS, parseKeyPem } from './signing-key.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const spki = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;

function refusal(pem: string, field?: string): MeshAuthError {
  try {
    parseKeyPem(pem, field);
  } catch (error) {
    expect(error).toBeInstanceOf(MeshAuthError);
    return error as MeshAuthError;
  }
  throw new Error('expected the key to be refused');
}

describe('parseKeyPem', () => {
  it('reads a private key as PKCS#1 or PKCS#8, surrounded by whitespace or not, as PKCS#1 plus its SPKI public key', () => {
    for (const pem of [pkcs1, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, `\n  ${pkcs1}\n\n`]) {
      expect(parseKeyPem(pem)).toEqual({ publicPem: spki, privatePem: pkcs1 });
    }
  });

  it('reads a public key as SPKI or PKCS#1, as SPKI without a private key', () => {
    for (const pem of [spki, rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string]) {
      expect(parseKeyPem(pem)).toEqual({ publicPem: spki, privatePem: undefined });
    }
  });

  it('refuses what is not a PEM RSA key, naming the field', () => {
    const reason = 'must be a PEM-encoded RSA private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8) or public key';
    for (const pem of ['junk', '', spki.replace('PUBLIC KEY', 'CERTIFICATE'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----']) {
      const error = refusal(pem, 'data');
      expect({ code: error.code, message: error.message, invalidParameters: error.invalidParameters }).toEqual({
        code: 'ERR_BAD_REQUEST',
        message: `data: ${reason}`,
        invalidParameters: [{ field: 'data', reason }],
      });
    }
    expect(refusal('junk', 'privatePem').message).toBe(`privatePem: ${reason}`);
  });

  it('refuses a key of another type, naming it', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(refusal(ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).message).toBe('data: must be an RSA key, got ec');
    expect(refusal(ec.publicKey.export({ type: 'spki', format: 'pem' }) as string).message).toBe('data: must be an RSA key, got ec');
  });

  it(`refuses an RSA key under ${MIN_RSA_BITS} bits and takes one of ${MIN_RSA_BITS} or more`, () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(refusal(weak).message).toBe('data: RSA key must be at least 2048 bits, got 1024');
    expect(parseKeyPem(pkcs1).privatePem).toBe(pkcs1);
  });
});

describe('generateRsaPrivateKeyPem', () => {
  it(`makes a PKCS#1 RSA key of ${MIN_RSA_BITS} bits by default, or of the bits asked`, async () => {
    const [standard, larger] = await Promise.all([generateRsaPrivateKeyPem(), generateRsaPrivateKeyPem(3072)]);
    expect(standard).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(createPrivateKey(standard).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(createPrivateKey(larger).asymmetricKeyDetails?.modulusLength).toBe(3072);
  });
});

describe('importSigningKey', () => {
  it('keeps the row and makes the key objects once; a row without a private key verifies only', () => {
    const signing = importSigningKey({ serial: 4, publicPem: spki, privatePem: pkcs1, createdAt: 123, origin: 'synced' });
    expect({ ...signing, publicKey: signing.publicKey.type, privateKey: signing.privateKey?.type }).toEqual({
      serial: 4,
      publicKey: 'public',
      privateKey: 'private',
      publicPem: spki,
      privatePem: pkcs1,
      createdAt: 123,
      origin: 'synced',
    });
    for (const privatePem of [null, undefined]) {
      const verifyOnly = importSigningKey({ serial: 5, publicPem: spki, privatePem, createdAt: 0, origin: 'local' });
      expect([verifyOnly.privateKey, verifyOnly.privatePem]).toEqual([undefined, undefined]);
    }
  });
});
