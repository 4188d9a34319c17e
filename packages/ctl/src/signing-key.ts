import { generateKeyPairSync } from 'node:crypto';

export const SIGNING_KEY_FORMATS = ['base64', 'pem'] as const;
export type SigningKeyFormat = (typeof SIGNING_KEY_FORMATS)[number];

/**
 * A new user-token signing key as the control planes store it: RSA 2048, PEM PKCS#1
 * (`RSA PRIVATE KEY`). base64 of the PEM is what a GlobalSecret's `data` holds.
 */
export function generateSigningKey(format: SigningKeyFormat): string {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return format === 'pem' ? privateKey : `${Buffer.from(privateKey).toString('base64')}\n`;
}
