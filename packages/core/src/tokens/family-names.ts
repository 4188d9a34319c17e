import type { TokenFamilyName } from './token-family.js';

/** Where each family's keys and revocations appear as secrets, as Kuma names them. */
export const userTokenFamily: TokenFamilyName = {
  id: 'user-token',
  label: 'user token',
  keySecretPrefix: 'user-token-signing-key-',
  revocationsSecret: 'user-token-revocations',
  mesh: '',
};

export const zoneTokenFamily: TokenFamilyName = {
  id: 'zone-token',
  label: 'zone token',
  keySecretPrefix: 'zone-token-signing-key-',
  revocationsSecret: 'zone-token-revocations',
  mesh: '',
};

export function dataplaneTokenFamily(mesh: string): TokenFamilyName {
  return {
    id: `dataplane-token/${mesh}`,
    label: 'dataplane token',
    keySecretPrefix: `dataplane-token-signing-key-${mesh}-`,
    revocationsSecret: `dataplane-token-revocations-${mesh}`,
    mesh,
  };
}
