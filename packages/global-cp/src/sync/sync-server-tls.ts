import { readFileSync } from 'node:fs';
import { configError, type MeshAuthConfig } from '@meshauth/core';

/**
 * The sync port serves grpcs when multizone.global.tlsCertFile and tlsKeyFile are set (zones then
 * dial grpcs:// and trust it with multizone.zone.globalCaFile), plaintext grpc otherwise.
 */
export function syncServerTls(config: MeshAuthConfig): { cert: string; key: string } | undefined {
  const { tlsCertFile, tlsKeyFile } = config.multizone.global;
  if (!tlsCertFile && !tlsKeyFile) return undefined;
  if (!tlsCertFile || !tlsKeyFile) {
    throw configError('set both multizone.global.tlsCertFile and multizone.global.tlsKeyFile, or neither');
  }
  try {
    return { cert: readFileSync(tlsCertFile, 'utf8'), key: readFileSync(tlsKeyFile, 'utf8') };
  } catch (error) {
    throw configError(`cannot read the sync TLS certificate/key: ${(error as Error).message}`);
  }
}
