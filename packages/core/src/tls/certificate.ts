import { isIP } from 'node:net';
import {
  readCertificateAuthority,
  type CertificateAndKey,
} from './certificate-authority.js';
import { issueCertificate } from './issue-certificate.js';
import { generateRsaKeyPair } from './rsa-key-pair.js';

export type CertificateType = 'server' | 'client';

export interface GenerateCertificateOptions {
  type: CertificateType;
  /**
   * Subject alternative names; IP literals become IP SANs, the rest DNS SANs.
   * Server default `['localhost', '127.0.0.1', '::1']`; client default none.
   */
  hostnames?: string[];
  /** Subject CN. Server default: the first hostname; client default `mesh-system:admin`. */
  commonName?: string;
  /** Validity in days from now. Default 3650. */
  validDays?: number;
  /** Signs the certificate. Omitted: self-signed, a leaf that can be its own trust anchor (see below). */
  ca?: CertificateAndKey;
  /** The clock; injected for tests. */
  now?: Date;
}

const DEFAULTS = {
  validDays: 3650, // days; ten years, as Kuma does for the certs it generates
  serverHostnames: ['localhost', '127.0.0.1', '::1'],
  clientCommonName: 'mesh-system:admin',
} as const;

const EXTENDED_KEY_USAGE = {
  server: { name: 'extKeyUsage', serverAuth: true },
  client: { name: 'extKeyUsage', clientAuth: true },
} as const;

/**
 * Generates an RSA 2048 key and an end-entity certificate for it. The key is returned as PKCS#8 PEM.
 *
 * Self-signed or not, the certificate is a leaf (CA:FALSE, no keyCertSign). A self-signed one can
 * still be handed to the other side as its trust anchor (`--ca-cert-file`, the client-certs CA
 * file): OpenSSL (so Node and grpc-js) accepts a self-signed leaf it was given as trusted for
 * itself. As a CA it would be trusted for more: its key, which sits on a server, could sign a
 * certificate for any name, and every client that trusts the file would accept it.
 */
export function generateCertificate(options: GenerateCertificateOptions): CertificateAndKey {
  const validDays = options.validDays ?? DEFAULTS.validDays;
  if (!Number.isFinite(validDays) || validDays <= 0) {
    throw new RangeError(`validDays must be a positive number of days, got ${validDays}`);
  }
  const hostnames =
    options.hostnames ?? (options.type === 'server' ? [...DEFAULTS.serverHostnames] : []);
  // A server cert without SANs matches no hostname in any modern TLS client.
  if (options.type === 'server' && hostnames.length === 0) {
    throw new TypeError('hostnames must not be empty for a server certificate');
  }
  const commonName =
    options.commonName ??
    (options.type === 'server' ? hostnames[0] : undefined) ??
    DEFAULTS.clientCommonName;
  const issuer = options.ca ? readCertificateAuthority(options.ca, 'ca') : undefined;

  const keyPair = generateRsaKeyPair();
  const certPem = issueCertificate({
    commonName,
    subjectKey: keyPair,
    validDays,
    now: options.now ?? new Date(),
    issuer,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      EXTENDED_KEY_USAGE[options.type],
      ...(hostnames.length > 0 ? [subjectAltNames(hostnames)] : []),
    ],
  });
  return { certPem, keyPem: keyPair.keyPem };
}

function subjectAltNames(hostnames: string[]): object {
  const altNames = hostnames.map((hostname) => {
    if (hostname.length === 0) throw new TypeError('hostnames must not contain an empty string');
    // A zone id (fe80::1%eth0) is local to one host; forge would silently drop it.
    if (hostname.includes('%')) {
      throw new TypeError(`hostnames must not carry a zone id: ${hostname}`);
    }
    return isIP(hostname) !== 0 ? { type: 7, ip: hostname } : { type: 2, value: hostname };
  });
  return { name: 'subjectAltName', altNames };
}
