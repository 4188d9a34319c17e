import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSigningKey } from './signing-key.js';

describe('generate signing-key', () => {
  it('prints an RSA 2048 PKCS#1 PEM', () => {
    const pem = generateSigningKey('pem');
    expect(pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+-----END RSA PRIVATE KEY-----\n$/);
    expect(createPrivateKey(pem).asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('prints base64 of the PEM by default format, on one line', () => {
    const text = generateSigningKey('base64');
    expect(text.trimEnd()).not.toContain('\n');
    expect(Buffer.from(text, 'base64').toString()).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
  });
});
