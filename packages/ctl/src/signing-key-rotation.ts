import type { ApiClient } from './api-client.js';
import { decodeJwt } from './jwt-decode.js';

export interface SigningKeyInfo {
  serial: number;
  createdAt: string;
  publicKeyPem: string;
  origin: 'local' | 'synced';
}

export interface RotationResult {
  serial: number;
  /** Serials of the keys still present that are older than the new one. */
  older: number[];
  removed: number[];
}

export const signingKeySecret = (serial: number) => `user-token-signing-key-${serial}`;

/**
 * The docs' rotation, server-side: create a key with the next serial (it signs from now on),
 * and with `removeOld` delete every older key, which invalidates every token they signed.
 */
export async function rotateSigningKey(
  client: ApiClient,
  options: { removeOld: boolean; ownToken?: string },
): Promise<RotationResult> {
  const { serial } = await client.json<{ serial: number }>('POST', '/tokens/user/signing-keys');
  const { items } = await client.json<{ items: SigningKeyInfo[] }>('GET', '/tokens/user/signing-keys');
  const older = items.map((k) => k.serial).filter((s) => s < serial);
  if (!options.removeOld) return { serial, older, removed: [] };
  const removed: number[] = [];
  for (const old of deletionOrder(older, kidOf(options.ownToken))) {
    await client.json('DELETE', `/global-secrets/${signingKeySecret(old)}`);
    removed.push(old);
  }
  return { serial, older, removed };
}

/**
 * The key that signed meshctl's own token goes last: once it is gone, that token no longer
 * authorizes the remaining deletions.
 */
export function deletionOrder(serials: readonly number[], ownKid: number | undefined): number[] {
  const sorted = [...serials].sort((a, b) => a - b);
  if (ownKid === undefined || !sorted.includes(ownKid)) return sorted;
  return [...sorted.filter((s) => s !== ownKid), ownKid];
}

export function kidOf(token: string | undefined): number | undefined {
  if (token === undefined) return undefined;
  try {
    const kid = Number(decodeJwt(token).header['kid']);
    return Number.isInteger(kid) ? kid : undefined;
  } catch {
    return undefined;
  }
}
