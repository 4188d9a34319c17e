import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { envNameOf } from '../config/load-config.js';
import { configError } from '../config/config-error.js';
import type { Store } from '../store/store.js';
import { generateCertificate } from '../tls/certificate.js';

export interface ServerCertificate {
  cert: string;
  key: string;
  /** Where it came from, for the start log: `configured` files or `generated` (self-signed, stored). */
  origin: 'configured' | 'generated';
  /** SHA-256 fingerprint as OpenSSL prints it, so an operator can compare what a client sees. */
  fingerprint256: string;
  /** Why the stored generated certificate was replaced at this start, if it was. */
  renewed?: string;
}

export interface ServerCertificateOptions {
  /** Configured PEM files; both empty: the generated certificate. */
  certFile: string;
  keyFile: string;
  /** The time a stored generated certificate's remaining validity is judged at (the plane's clock). */
  now: Date;
  /** Prefix of the store entries holding the generated certificate. */
  storeKey?: string;
  /** Names the settings in messages (`apiServer.https` → MESHAUTH_API_SERVER_HTTPS_…). */
  settingPrefix?: string;
}

/**
 * The generated certificate lasts a year and is replaced at start once fewer than 30 days remain.
 * A year, not ten: a leaked server key is good for a year at most, and clients that cap a leaf's
 * lifetime (398 days in browsers and Apple's TLS stack) still accept it. Renewing at start and
 * 30 days ahead, rather than at expiry, because a plane only looks at its certificate when it
 * starts: upgrades and restarts come far more often than once a month, so the new certificate is
 * in place long before any client could see an expired one, and operators who pinned it
 * (`meshctl --ca-cert-file`) get weeks to fetch the new one (the start log says it changed).
 */
const GENERATED_VALID_DAYS = 365;
const RENEW_WITHIN_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The certificate 5682 serves: the configured files, or a self-signed one generated on first
 * start and kept in the store so restarts (and clients that pinned it) see the same certificate
 * until it is due for renewal. Configured files are checked here (PEM, key matches cert) so a
 * mistake stops the start with one line naming the setting instead of an OpenSSL stack trace
 * from deep inside the HTTPS server. Configured files are the operator's to renew.
 */
export async function loadServerCertificate(store: Store, options: ServerCertificateOptions): Promise<ServerCertificate> {
  const { certFile, keyFile, storeKey = 'apiServer', settingPrefix = 'apiServer.https' } = options;
  const certSetting = envNameOf(`${settingPrefix}.tlsCertFile`);
  const keySetting = envNameOf(`${settingPrefix}.tlsKeyFile`);
  if (certFile || keyFile) {
    if (!certFile || !keyFile) {
      const [set, unset] = certFile ? [certSetting, keySetting] : [keySetting, certSetting];
      throw configError(`${set} is set but ${unset} is not; set both, or neither to use a generated self-signed certificate`);
    }
    const cert = readPem(certFile, certSetting);
    const key = readPem(keyFile, keySetting);
    const x509 = parse(() => new X509Certificate(cert), `${certSetting} (${certFile}) does not hold a PEM certificate`);
    const keyObject = parse<KeyObject>(() => createPrivateKey(key), `${keySetting} (${keyFile}) does not hold an unencrypted PEM private key`);
    if (!x509.checkPrivateKey(keyObject)) {
      throw configError(`the key in ${keySetting} (${keyFile}) does not belong to the certificate in ${certSetting} (${certFile})`);
    }
    return { cert, key, origin: 'configured', fingerprint256: x509.fingerprint256 };
  }
  return generatedCertificate(store, storeKey, options.now);
}

/** Replicas starting together generate one certificate between them, not one each. */
async function generatedCertificate(store: Store, storeKey: string, now: Date): Promise<ServerCertificate> {
  return store.exclusive(`${storeKey}.tlsCertificate`, async () => {
    const cert = await store.read.getMeta(`${storeKey}.tlsCertPem`);
    const key = await store.read.getMeta(`${storeKey}.tlsKeyPem`);
    const stored = cert && key ? new X509Certificate(cert) : undefined;
    const renewal = stored && renewalReason(stored, now);
    if (stored && !renewal) return { cert: cert!, key: key!, origin: 'generated' as const, fingerprint256: stored.fingerprint256 };

    const generated = generateCertificate({ type: 'server', hostnames: generatedHostnames(), validDays: GENERATED_VALID_DAYS, now });
    await store.transaction(async (tx) => {
      await tx.setMeta(`${storeKey}.tlsCertPem`, generated.certPem);
      await tx.setMeta(`${storeKey}.tlsKeyPem`, generated.keyPem);
    });
    return {
      cert: generated.certPem,
      key: generated.keyPem,
      origin: 'generated' as const,
      fingerprint256: new X509Certificate(generated.certPem).fingerprint256,
      ...(renewal ? { renewed: renewal } : {}),
    };
  });
}
/** Why a stored generated certificate must be replaced now, or undefined to keep it. */
function renewalReason(cert: X509Certificate, now: Date): string | undefined {
  const left = Date.parse(cert.validTo) - now.getTime();
  if (left < RENEW_WITHIN_DAYS * DAY_MS) {
    return left <= 0 ? `it expired at ${new Date(cert.validTo).toISOString()}` : `it expires at ${new Date(cert.validTo).toISOString()}, in under ${RENEW_WITHIN_DAYS} days`;
  }
  // Earlier versions generated a self-signed CA valid for ten years: replace it with a leaf now.
  if (cert.ca) return 'it is a CA certificate (generated by an earlier version); the generated certificate is now a leaf';
  return undefined;
}

/** Loopback, and this machine's name so clients that reach it by name can verify against the cert itself. */
function generatedHostnames(): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', hostname()].filter((name) => name !== ''))];
}

function readPem(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw configError(`${setting}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function parse<T>(read: () => T, message: string): T {
  try {
    return read();
  } catch {
    throw configError(message);
  }
}

