import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { loadForge } from './forge.js';
import { generateCertificate, generateCertificateAuthority } from './index.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

describe('generateCertificate', () => {
  it('server cert: default SANs, serverAuth, a self-signed leaf (not a CA) that verifies against itself', () => {
    const { certPem, keyPem } = generateCertificate({ type: 'server' });
    const cert = new X509Certificate(certPem);

    expect(cert.subjectAltName).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(cert.subject).toBe('CN=localhost');
    expect(cert.keyUsage).toEqual([SERVER_AUTH]);
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expectLeaf(certPem);
  });

  it('client cert, self-signed or CA-signed, is a leaf too', () => {
    expectLeaf(generateCertificate({ type: 'client' }).certPem);
    const ca = generateCertificateAuthority({ commonName: 'meshauth test CA' });
    expectLeaf(generateCertificate({ type: 'client', ca }).certPem);
  });

  it('puts IP literals in IP SANs and names in DNS SANs', () => {
    const { certPem } = generateCertificate({
      type: 'server',
      hostnames: ['cp.mesh.internal', '10.0.0.7', 'fd00::1'],
    });
    const cert = new X509Certificate(certPem);
    expect(cert.subjectAltName).toBe(
      'DNS:cp.mesh.internal, IP Address:10.0.0.7, IP Address:FD00:0:0:0:0:0:0:1',
    );
    expect(cert.subject).toBe('CN=cp.mesh.internal');
  });

  it('backdates notBefore by 5 minutes and lasts validDays', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const { certPem } = generateCertificate({ type: 'server', validDays: 2, now });
    const cert = new X509Certificate(certPem);
    expect(new Date(cert.validFrom)).toEqual(new Date('2029-12-31T23:55:00Z'));
    expect(new Date(cert.validTo)).toEqual(new Date('2030-01-03T00:00:00Z'));
  });

  it('gives a positive 16-byte serial, different each time', () => {
    const serials = [1, 2, 3].map(
      () => new X509Certificate(generateCertificate({ type: 'client' }).certPem).serialNumber,
    );
    for (const serial of serials) {
      expect(serial).toMatch(/^[0-9A-F]{32}$/);
      expect(Number.parseInt(serial.slice(0, 2), 16)).toBeLessThan(0x80);
    }
    expect(new Set(serials).size).toBe(3);
  });

  it('client cert: default CN, clientAuth, no SANs', () => {
    const cert = new X509Certificate(generateCertificate({ type: 'client' }).certPem);
    expect(cert.subject).toBe('CN=mesh-system:admin');
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
    expect(cert.subjectAltName).toBeUndefined();
  });

  it('CA-signed client cert verifies against its CA and not against another', () => {
    const ca = generateCertificateAuthority({ commonName: 'meshauth test CA' });
    const otherCa = generateCertificateAuthority({ commonName: 'meshauth test CA' });
    const client = generateCertificate({ type: 'client', commonName: 'alice', ca });

    const cert = new X509Certificate(client.certPem);
    const caCert = new X509Certificate(ca.certPem);
    const otherCaCert = new X509Certificate(otherCa.certPem);
    expect(cert.ca).toBe(false);
    expect(cert.issuer).toBe('CN=meshauth test CA');
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    // Same subject name, different key: the signature must not verify.
    expect(cert.verify(otherCaCert.publicKey)).toBe(false);
  });

  it('rejects bad options, naming them', () => {
    const ca = generateCertificateAuthority({ commonName: 'ca' });
    const notCa = generateCertificate({ type: 'client', ca });
    const otherKey = generateCertificateAuthority({ commonName: 'other' }).keyPem;
    expect(() => generateCertificate({ type: 'server', hostnames: [] })).toThrow(/hostnames/);
    expect(() => generateCertificate({ type: 'server', hostnames: ['fe80::1%eth0'] })).toThrow(
      /zone id/,
    );
    expect(() => generateCertificate({ type: 'client', validDays: 0 })).toThrow(/validDays/);
    expect(() => generateCertificate({ type: 'client', ca: notCa })).toThrow(
      /ca\.certPem is not a CA/,
    );
    expect(() => generateCertificate({ type: 'client', ca: { ...ca, keyPem: otherKey } })).toThrow(
      /ca\.keyPem does not match/,
    );
  });
});

/**
 * basicConstraints CA:FALSE (critical), keyUsage exactly digitalSignature + keyEncipherment
 * (critical), extKeyUsage one purpose. OpenSSL agrees it can sign no certificate, itself included.
 */
function expectLeaf(certPem: string): void {
  const cert = new X509Certificate(certPem);
  expect(cert.ca).toBe(false);
  expect(cert.keyUsage).toHaveLength(1);
  expect(cert.checkIssued(cert)).toBe(false);
  const forgeCert = loadForge().pki.certificateFromPem(certPem);
  expect(forgeCert.getExtension('basicConstraints')).toMatchObject({ critical: true, cA: false });
  const keyUsage = forgeCert.getExtension('keyUsage') as Record<string, unknown>;
  expect(keyUsage).toMatchObject({ critical: true, digitalSignature: true, keyEncipherment: true, keyCertSign: false, cRLSign: false });
}

describe('generated certificates in a real TLS handshake', () => {
  // Node (OpenSSL 3) takes a self-signed leaf it was given as trusted for itself: what lets
  // `--ca-cert-file` and the zones' globalCaFile point at the generated certificate.
  it('a client trusting the self-signed leaf server cert connects to localhost', async () => {
    const server = generateCertificate({ type: 'server' });
    await withTlsServer({ cert: server.certPem, key: server.keyPem }, async (port) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: server.certPem,
      });
      try {
        await onceSecure(socket);
        expect(socket.authorized).toBe(true);
      } finally {
        socket.destroy();
      }
    });
  });

  it('a server requiring client certs accepts one from its CA, refuses others', async () => {
    const server = generateCertificate({ type: 'server' });
    const ca = generateCertificateAuthority({ commonName: 'admin client CA' });
    const otherCa = generateCertificateAuthority({ commonName: 'admin client CA' });
    const trusted = generateCertificate({ type: 'client', ca });
    const untrusted = generateCertificate({ type: 'client', ca: otherCa });
    const selfSigned = generateCertificate({ type: 'client' });

    const options = {
      cert: server.certPem,
      key: server.keyPem,
      requestCert: true,
      rejectUnauthorized: true,
    };
    const admin = 'mesh-system:admin';
    await withTlsServer({ ...options, ca: ca.certPem }, async (port, outcome) => {
      expect(await outcome(() => connectWith(port, server.certPem, trusted))).toBe(admin);
      expect(await outcome(() => connectWith(port, server.certPem, untrusted))).toBe('refused');
      expect(await outcome(() => connectWith(port, server.certPem, selfSigned))).toBe('refused');
    });
    // A self-signed client cert is a leaf, yet it can be the server's trust anchor for itself.
    await withTlsServer({ ...options, ca: selfSigned.certPem }, async (port, outcome) => {
      expect(await outcome(() => connectWith(port, server.certPem, selfSigned))).toBe(admin);
    });
  });
});

type Outcome = (connect: () => tls.TLSSocket) => Promise<string>;

/**
 * Runs `use` against a TLS server on an ephemeral port. `outcome` connects once and reports what
 * the server saw: the client cert's CN when it accepted the handshake, `refused` when it did not.
 */
async function withTlsServer(
  options: tls.TlsOptions,
  use: (port: number, outcome: Outcome) => Promise<void>,
): Promise<void> {
  const server = tls.createServer(options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const outcome: Outcome = async (connect) => {
    const seen = new Promise<string>((resolve) => {
      server.once('secureConnection', (socket: tls.TLSSocket) => {
        const commonName = String(socket.getPeerCertificate().subject?.CN ?? 'no CN');
        resolve(socket.authorized ? commonName : 'unauthorized');
        socket.destroy();
      });
      server.once('tlsClientError', () => resolve('refused'));
    });
    const client = connect();
    // The refusal also surfaces as a client error; we assert on what the server saw instead.
    client.on('error', () => {});
    try {
      return await seen;
    } finally {
      server.removeAllListeners('secureConnection').removeAllListeners('tlsClientError');
      client.destroy();
    }
  };
  try {
    await use((server.address() as AddressInfo).port, outcome);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function connectWith(port: number, serverCa: string, client: { certPem: string; keyPem: string }) {
  return tls.connect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca: serverCa,
    cert: client.certPem,
    key: client.keyPem,
  });
}

function onceSecure(socket: tls.TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
}
