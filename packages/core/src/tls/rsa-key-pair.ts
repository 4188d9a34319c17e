import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import type forge from 'node-forge';
import { loadForge } from './forge.js';

/** An RSA key pair in both shapes we need: PEM to hand out, forge objects to sign with. */
export interface RsaKeyPair {
  /** PKCS#8 PEM (`BEGIN PRIVATE KEY`), the format OpenSSL 3 and Node emit by default. */
  keyPem: string;
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
}

const RSA_MODULUS_BITS = 2048;

// Node's native keygen takes milliseconds; forge's pure-JS one takes seconds for 2048 bits.
export function generateRsaKeyPair(): RsaKeyPair {
  const { privateKey: keyPem } = generateKeyPairSync('rsa', {
    modulusLength: RSA_MODULUS_BITS,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { keyPem, ...forgeKeysFromPem(keyPem, 'key') };
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
  return { keyPem: pkcs8Pem, ...forgeKeysFromPem(pkcs8Pem, optionName) };
}

function forgeKeysFromPem(
  keyPem: string,
  optionName: string,
): Pick<RsaKeyPair, 'privateKey' | 'publicKey'> {
  const privateKey = loadForge().pki.privateKeyFromPem(keyPem);
  if (!privateKey) throw new TypeError(`${optionName} could not be read as an RSA private key`);
  const publicKey = loadForge().pki.setRsaPublicKey(privateKey.n, privateKey.e);
  return { privateKey, publicKey };
}
