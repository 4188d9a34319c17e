import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type forge from 'node-forge';
import { loadForge } from './forge.js';

/**
 * An RSA key pair as certificates need it: the private key as PEM (Node signs with it), the
 * public key as a forge object (forge writes it into the certificate).
 */
export interface RsaKeyPair {
  /** PKCS#8 PEM (`BEGIN PRIVATE KEY`), the format OpenSSL 3 and Node emit by default. */
  keyPem: string;
  publicKey: forge.pki.rsa.PublicKey;
}

const RSA_MODULUS_BITS = 2048;

// Node's native keygen takes milliseconds; forge's pure-JS one takes seconds for 2048 bits.
export function generateRsaKeyPair(): RsaKeyPair {
  const { privateKey: keyPem, publicKey: publicPem } = generateKeyPairSync('rsa', {
    modulusLength: RSA_MODULUS_BITS,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { keyPem, publicKey: forgePublicKey(publicPem) };
}

/**
 * Reads an RSA private key given as PKCS#1 or PKCS#8 PEM. Node parses it first so that a wrong
 * key type (EC, Ed25519 — forge only knows RSA) fails with a message naming the option.
 */
export function readRsaPrivateKey(keyPem: string, optionName: string): RsaKeyPair {
  let keyObject;
  try {
    keyObject = createPrivateKey(keyPem);
  } catch (cause) {
    throw new TypeError(`${optionName} is not a readable unencrypted PEM private key`, { cause });
  }
  if (keyObject.asymmetricKeyType !== 'rsa') {
    throw new TypeError(
      `${optionName} must be an RSA private key, got ${keyObject.asymmetricKeyType ?? 'unknown'}`,
    );
  }
  const pkcs8Pem = keyObject.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = createPublicKey(keyObject).export({ type: 'spki', format: 'pem' }).toString();
  return { keyPem: pkcs8Pem, publicKey: forgePublicKey(publicPem) };
}

function forgePublicKey(publicPem: string): forge.pki.rsa.PublicKey {
  return loadForge().pki.publicKeyFromPem(publicPem) as forge.pki.rsa.PublicKey;
}
