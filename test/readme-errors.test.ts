/**
 * README.md's error table is the error registry (packages/core/src/errors.ts): every code in one is
 * in the other, with the same HTTP status.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorRegistry } from '@meshauth/core';
import { repoRoot } from './support/daemon.js';

function errorTable(): Map<string, number> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('\n### Errors\n');
  expect(start, 'section "### Errors"').toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n#', start + 1);
  const rows = [...readme.slice(start, end).matchAll(/^\| `(ERR_[A-Z0-9_]+)` \| (\d{3}) \| (.+) \|$/gm)];
  const table = new Map<string, number>();
  for (const [, code, status, meaning] of rows) {
    expect(table.has(code!), `${code} listed once`).toBe(false);
    expect(meaning!.trim(), `${code} has a meaning`).not.toBe('');
    table.set(code!, Number(status));
  }
  return table;
}

describe('README error table', () => {
  it('lists every code of the registry with its status, and no other', () => {
    const registry = new Map(Object.entries(errorRegistry).map(([code, { status }]) => [code, status]));
    expect(Object.fromEntries([...errorTable()].sort())).toEqual(Object.fromEntries([...registry].sort()));
  });
});
