import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { envNameOf } from '../config/load-config.js';
import { configError } from '../config/config-error.js';

const SETTING = envNameOf('apiServer.authn.clientCerts.caFile');
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The CAs trusted for admin client certificates: a PEM file (one or more certificates), or every
 * .pem/.crt in a directory. Every certificate is parsed here: OpenSSL silently skips what it
 * cannot read, which would leave a server that trusts nobody (or fewer CAs than meant) without a word.
 */
export function loadClientCa(path: string): string[] {
  if (!path) {
    throw configError(`apiServer.authn.type adminClientCerts needs ${SETTING} (a CA PEM file or a directory of them)`);
  }
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path).filter((f) => /\.(pem|crt)$/i.test(f)).sort().map((f) => join(path, f))
      : [path];
  } catch (error) {
    throw configError(`${SETTING}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (files.length === 0) throw configError(`${SETTING}: directory ${path} holds no .pem or .crt file`);
  return files.flatMap(readCertificates);
}

function readCertificates(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw configError(`${SETTING}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const pems = text.match(PEM_CERTIFICATE) ?? [];
  if (pems.length === 0) throw configError(`${SETTING}: ${file} holds no PEM certificate`);
  for (const pem of pems) {
    try {
      new X509Certificate(pem);
    } catch {
      throw configError(`${SETTING}: ${file} holds a PEM certificate that cannot be parsed`);
    }
  }
  return pems;
}

