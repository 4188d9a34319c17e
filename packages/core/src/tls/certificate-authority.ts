import type forge from 'node-forge';
import { loadForge } from './forge.js';
import { issueCertificate, type Issuer } from './issue-certificate.js';
import { generateRsaKeyPair, readRsaPrivateKey } from './rsa-key-pair.js';

/** A PEM certificate with its PEM private key (PKCS#8 when generated here). */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export interface GenerateCertificateAuthorityOptions {
  commonName: string;
  /** Validity in days from now. Default 3650. */
  validDays?: number;
  /** The clock; injected for tests. */
  now?: Date;
}

const DEFAULT_CA_VALID_DAYS = 3650; // days

/** A self-signed CA that may only sign end-entity certificates (pathLenConstraint 0). */
export function generateCertificateAuthority(
  options: GenerateCertificateAuthorityOptions,
): CertificateAndKey {
  const keyPair = generateRsaKeyPair();
  const certPem = issueCertificate({
    commonName: options.commonName,
    subjectKey: keyPair,
    validDays: options.validDays ?? DEFAULT_CA_VALID_DAYS,
    now: options.now ?? new Date(),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return { certPem, keyPem: keyPair.keyPem };
}

/**
 * Reads a CA given as PEM so it can sign. Refuses a certificate that is not a CA or a key that
 * does not belong to it: either would produce certificates that no verifier accepts.
 */
export function readCertificateAuthority(ca: CertificateAndKey, optionName: string): Issuer {
  let certificate: forge.pki.Certificate;
  try {
    certificate = loadForge().pki.certificateFromPem(ca.certPem);
  } catch (cause) {
    throw new TypeError(`${optionName}.certPem is not a readable PEM RSA certificate`, { cause });
  }
  const basicConstraints = certificate.getExtension('basicConstraints') as { cA?: boolean } | null;
  if (!basicConstraints?.cA) {
    throw new TypeError(`${optionName}.certPem is not a CA certificate (basicConstraints cA)`);
  }
  const { publicKey, keyPem } = readRsaPrivateKey(ca.keyPem, `${optionName}.keyPem`);
  const certPublicKey = certificate.publicKey as forge.pki.rsa.PublicKey;
  if (!certPublicKey.n.equals(publicKey.n) || !certPublicKey.e.equals(publicKey.e)) {
    throw new TypeError(`${optionName}.keyPem does not match ${optionName}.certPem`);
  }
  return { certificate, keyPem };
}
