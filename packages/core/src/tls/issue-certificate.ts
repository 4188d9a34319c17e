import { randomBytes } from 'node:crypto';
import type forge from 'node-forge';
import { loadForge } from './forge.js';
import type { RsaKeyPair } from './rsa-key-pair.js';

/** The certificate and key that sign a new certificate. */
export interface Issuer {
  certificate: forge.pki.Certificate;
  privateKey: forge.pki.rsa.PrivateKey;
}

export interface IssueCertificateOptions {
  commonName: string;
  subjectKey: RsaKeyPair;
  /** Extensions besides the key identifiers, in forge's `{ name, ... }` form. */
  extensions: object[];
  validDays: number;
  now: Date;
  /** Omitted: the certificate is self-signed with `subjectKey`. */
  issuer?: Issuer;
}

// Tolerates clocks of peers that run a little behind ours.
const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Builds, signs (SHA-256) and PEM-encodes one X.509 v3 certificate. */
export function issueCertificate(options: IssueCertificateOptions): string {
  const { commonName, subjectKey, extensions, validDays, now, issuer } = options;
  const cert = loadForge().pki.createCertificate();
  cert.publicKey = subjectKey.publicKey;
  cert.serialNumber = randomSerialNumberHex();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + validDays * DAY_MS);

  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(issuer ? issuer.certificate.subject.attributes : subject);

  // Key identifiers let verifiers pick the right CA when several share a subject name.
  const authorityKeyId = (issuer?.certificate ?? cert).generateSubjectKeyIdentifier().getBytes();
  cert.setExtensions([
    ...extensions,
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId },
  ]);

  cert.sign(issuer?.privateKey ?? subjectKey.privateKey, loadForge().md.sha256.create());
  return loadForge().pki.certificateToPem(cert);
}

/**
 * 16 random bytes read as a positive DER INTEGER: the top bit is cleared so it is not negative,
 * and the next one set so the first byte is never zero (a leading zero byte is not minimal DER).
 */
function randomSerialNumberHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}
