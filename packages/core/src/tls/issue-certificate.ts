import { randomBytes, sign } from 'node:crypto';
import type forge from 'node-forge';
import { loadForge } from './forge.js';
import type { RsaKeyPair } from './rsa-key-pair.js';

/** The certificate and key that sign a new certificate. */
export interface Issuer {
  certificate: forge.pki.Certificate;
  /** PKCS#8 PEM. */
  keyPem: string;
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

  signSha256WithRsa(cert, issuer?.keyPem ?? subjectKey.keyPem);
  return loadForge().pki.certificateToPem(cert);
}

/**
 * What forge's `cert.sign(key, sha256)` does, with Node's OpenSSL doing the signature: forge's
 * pure-JS RSA takes about half a second per certificate and leaves megabytes of garbage, on a
 * plane's first start (its HTTPS certificate) and in `meshctl generate tls-certificate`.
 */
function signSha256WithRsa(cert: forge.pki.Certificate, keyPem: string): void {
  const { pki, asn1 } = loadForge();
  cert.signatureOid = cert.siginfo.algorithmOid = pki.oids.sha256WithRSAEncryption!;
  // getTBSCertificate is forge's own (what cert.sign uses); its typings just do not list it.
  cert.tbsCertificate = (pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const tbs = Buffer.from(asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  // forge keeps byte strings as binary (latin1) JS strings.
  cert.signature = sign('sha256', tbs, keyPem).toString('binary');
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
