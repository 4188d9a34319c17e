import { readFileSync } from 'node:fs';

/**
 * meshctl's version, read from the package manifest. The path is the same relative to
 * `src/` (tests) and `dist/` (the built binary).
 */
export function meshctlVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}
