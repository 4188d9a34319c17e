import { UsageError } from './errors.js';

/**
 * Accumulates a repeatable list flag; each value may also be comma-separated,
 * so `--group a --group b` and `--group a,b` mean the same (as with kumactl's string slices).
 */
export function collectList(value: string, previous: string[] = []): string[] {
  const items = value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  return [...previous, ...items];
}

/** Accumulates a repeatable `key=value` flag. */
export function collectPairs(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `["token=abc"]` → `{token: "abc"}`; the value may itself contain `=`. */
export function parseKeyValues(pairs: readonly string[], flag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const [key, value] = splitPair(pair, flag);
    result[key] = value;
  }
  return result;
}

/**
 * Dataplane token tags: `--tag kuma.io/service=web --tag version=v1,v2` →
 * `{"kuma.io/service": ["web"], "version": ["v1", "v2"]}`. Repeating a key adds values.
 */
export function parseTags(pairs: readonly string[]): Record<string, string[]> {
  const tags: Record<string, string[]> = {};
  for (const pair of pairs) {
    const [key, value] = splitPair(pair, '--tag');
    const values = value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    if (values.length === 0) throw new UsageError(`--tag ${pair}: the value is empty; expected key=value`);
    const existing = tags[key] ?? [];
    tags[key] = [...existing, ...values.filter((v) => !existing.includes(v))];
  }
  return tags;
}

function splitPair(pair: string, flag: string): [string, string] {
  const at = pair.indexOf('=');
  const key = at < 0 ? '' : pair.slice(0, at).trim();
  if (key === '') throw new UsageError(`${flag} ${pair}: expected key=value`);
  return [key, pair.slice(at + 1)];
}
