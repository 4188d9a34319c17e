/**
 * Go-style durations (`24h`, `1h30m`, `90s`, `1.5h`, `300ms`), as the docs' `--valid-for 24h` uses.
 * Parsed to milliseconds; a bare number or an unknown unit is refused so that `"24"` is never
 * silently read as 24 ms.
 */
const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const part = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

export function parseDuration(text: string): number {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) {
    throw new TypeError(`invalid duration ${JSON.stringify(text)}: expected a Go duration such as "24h" or "1h30m"`);
  }
  if (text === '0') return 0;
  let sign = 1;
  let rest = text;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest.length === 0) {
    throw new TypeError(`invalid duration ${JSON.stringify(text)}: expected a Go duration such as "24h" or "1h30m"`);
  }
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < rest.length) {
    const match = part.exec(rest);
    if (!match) {
      throw new TypeError(`invalid duration ${JSON.stringify(text)}: expected a Go duration such as "24h" or "1h30m"`);
    }
    total += Number(match[1]) * unitMs[match[2]!]!;
  }
  return sign * total;
}

/** Formats milliseconds the way Go prints a duration, e.g. 86400000 → "24h0m0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${rest}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}
