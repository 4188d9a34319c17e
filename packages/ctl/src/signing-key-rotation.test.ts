import { describe, expect, it } from 'vitest';
import { createApiClient } from './api-client.js';
import { deletionOrder, kidOf, rotateSigningKey } from './signing-key-rotation.js';
import { DOCS_TOKEN } from './test-support/docs-token.js';
import { startFakeControlPlane } from './test-support/fake-control-plane.js';

describe('signing key rotation', () => {
  it('deletes the key that signed our own token last', () => {
    expect(deletionOrder([3, 1, 2], 1)).toEqual([2, 3, 1]);
    expect(deletionOrder([2, 1], undefined)).toEqual([1, 2]);
    expect(deletionOrder([2, 1], 9)).toEqual([1, 2]);
  });

  it('reads the kid of a token, if it has a numeric one', () => {
    expect(kidOf(DOCS_TOKEN)).toBe(1);
    expect(kidOf('junk')).toBeUndefined();
    expect(kidOf(undefined)).toBeUndefined();
  });

  async function fakeGlobal(serials: number[]) {
    return startFakeControlPlane((req) => {
      if (req.method === 'POST') return { status: 201, body: { serial: 3 } };
      if (req.method === 'GET') {
        return { body: { items: [...serials, 3].map((serial) => ({ serial, createdAt: '', publicKeyPem: '', origin: 'local' })) } };
      }
      return { body: {} };
    });
  }

  it('creates a key and leaves the older ones without --remove-old', async () => {
    const cp = await fakeGlobal([1, 2]);
    try {
      const result = await rotateSigningKey(createApiClient({ url: cp.url }), { removeOld: false });
      expect(result).toEqual({ serial: 3, older: [1, 2], removed: [] });
      expect(cp.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /tokens/user/signing-keys', 'GET /tokens/user/signing-keys']);
    } finally {
      await cp.close();
    }
  });

  it('with --remove-old deletes every older key through its global secret', async () => {
    const cp = await fakeGlobal([1, 2]);
    try {
      const result = await rotateSigningKey(createApiClient({ url: cp.url }), { removeOld: true, ownToken: DOCS_TOKEN });
      expect(result.removed).toEqual([2, 1]);
      expect(cp.requests.slice(2).map((r) => `${r.method} ${r.url}`)).toEqual([
        'DELETE /global-secrets/user-token-signing-key-2',
        'DELETE /global-secrets/user-token-signing-key-1',
      ]);
    } finally {
      await cp.close();
    }
  });
});
