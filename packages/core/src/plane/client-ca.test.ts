import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCertificateAuthority } from '../tls/certificate-authority.js';
import { loadClientCa } from './client-ca.js';

describe('loadClientCa', () => {
  const dir = mkdtempSync(join(tmpdir(), 'client-ca-'));
  const write = (name: string, content: string) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };
  const a = generateCertificateAuthority({ commonName: 'a' }).certPem;
  const b = generateCertificateAuthority({ commonName: 'b' }).certPem;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every certificate of a bundle file', () => {
    expect(loadClientCa(write('bundle.pem', `${a}\n${b}`))).toEqual([a.trim(), b.trim()]);
  });

  it('reads the .pem and .crt files of a directory, in name order, and nothing else', () => {
    const sub = join(dir, 'cas');
    mkdirSync(sub);
    writeFileSync(join(sub, '2.crt'), b);
    writeFileSync(join(sub, '1.pem'), a);
    writeFileSync(join(sub, 'notes.txt'), 'not a cert');
    expect(loadClientCa(sub)).toEqual([a.trim(), b.trim()]);
  });

  it('refuses a file with a damaged certificate, naming the file and the setting', () => {
    const damaged = a.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    expect(() => loadClientCa(write('damaged.pem', `${b}\n${damaged}`))).toThrow(
      /MESHAUTH_API_SERVER_AUTHN_CLIENT_CERTS_CA_FILE: .*damaged\.pem holds a PEM certificate that cannot be parsed/,
    );
  });
});
