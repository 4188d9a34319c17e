import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { generateCertificate } from '@meshauth/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { handshake } from './tls-client.js';

/** TLS 1.2 suites a meshauth port must refuse: static-RSA key exchange (no forward secrecy) or CBC. */
const refused: [string, string][] = [
  ['static RSA key exchange with AES-GCM', 'AES128-GCM-SHA256'],
  ['static RSA key exchange with AES-CBC', 'AES128-SHA256'],
  ['ECDHE with AES-CBC', 'ECDHE-RSA-AES128-SHA256'],
  ['ECDHE with AES-CBC and SHA-1', 'ECDHE-RSA-AES256-SHA'],
];
/** TLS 1.2 suites it must accept: ECDHE with an AEAD cipher, for an RSA certificate. */
const accepted = ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305'];

/**
 * Declares, inside the caller's describe, the tests that a real TLS client sees meshauth's TLS
 * policy on `port()`: TLS 1.3, and TLS 1.2 with ECDHE + AEAD only. `connect` adds client options
 * (ALPN `h2` for a gRPC port). A control server with Node's defaults proves each refused client
 * can connect when a server allows it, so a refusal below is the server's.
 */
export function itServesTheTlsPolicy(port: () => number, connect: { ALPNProtocols?: string[] } = {}): void {
  let control: tls.Server;
  beforeAll(async () => {
    const { certPem, keyPem } = generateCertificate({ type: 'server' });
    control = tls.createServer({ cert: certPem, key: keyPem, ...connect }, (s) => s.end());
    await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => control.close(resolve));
  });

  const tls12 = (ciphers: string) => ({ ...connect, ciphers, maxVersion: 'TLSv1.2' as const });

  it.each(refused)('refuses a TLS 1.2 client offering only %s (%s)', async (_what, cipher) => {
    // Control: Node's default server accepts this very client.
    expect((await handshake((control.address() as AddressInfo).port, tls12(cipher))).cipher).toBe(cipher);
    const error = await handshake(port(), tls12(cipher)).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(error?.code).toMatch(/HANDSHAKE_FAILURE|NO_SHARED_CIPHER|NO_CIPHERS/);
  });

  it.each(accepted)('accepts a TLS 1.2 client offering only %s', async (cipher) => {
    expect(await handshake(port(), tls12(cipher))).toMatchObject({ protocol: 'TLSv1.2', cipher });
  });

  it('accepts a TLS 1.3 client', async () => {
    expect(await handshake(port(), { ...connect, minVersion: 'TLSv1.3' })).toMatchObject({ protocol: 'TLSv1.3', cipher: expect.stringMatching(/^TLS_/) });
  });
}
