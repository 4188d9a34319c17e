import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { markdownTable } from './report.mjs';

const HEADING = '## Performance';

/** The section's text for these results: the command, the machine, the table, how to read it. */
export function performanceSection(results) {
  const m = results.meta;
  return `${HEADING}

Measured with \`${m.command}\` on ${m.startedAt.slice(0, 10)}: ${m.cpus} CPUs (${m.cpuModel}), Node ${m.node}, load
average ${m.loadAverageAtStart.join(' / ')} at the start; the whole suite took ${Math.round(m.totalSeconds)} s. Every ratio is
measured in the same run as its baseline; \`bench/results.json\` holds every figure with its baseline.

${markdownTable(results)}

How to read it:
- Each ratio is the median over rounds of (measured ÷ baseline) within a round. In-process
  benchmarks interleave the two sides in batches of a few milliseconds; HTTP benchmarks alternate
  3-second autocannon runs. The machine is shared, so pairing close in time is what keeps other
  processes' load out of the ratio; the rates shown are each side's median.
- Cold verification: the baseline is \`crypto.verify\` alone over pre-decoded signing inputs and
  signatures of the same tokens, so the ratio is the cost of everything else (splitting, base64url,
  JSON, duplicate-member and claims checks). Issuing: the baseline is \`crypto.sign\` on libuv's
  thread pool with 16 signatures in flight (all cores), like the issuer's own signing; the HTTP
  figures share the machine's cores with autocannon, the baselines do not.
- Server CPU per request (from /proc, all threads) is given beside the HTTP rates: on a busy
  machine it is the steadier measure of what authentication or issuing costs.
- Propagation: from sending \`POST /tokens/user/revocations\` to global until the last zone
  refuses the token. 2 zones are real \`zone-cp\` processes polled on \`GET /who-am-i\`; 100 and
  1,000 zones are zone-cp's own sync client (\`createSyncClient\`), up to 250 per process and at
  least one process per core, each with its own in-memory SQLite store (a real zone fsyncs to its
  own disk; a thousand on one disk would measure the disk), timed the moment the zone applies the
  change; that its own verifier then refuses the token is checked right after, untimed.
- Scale: revocations are imported with one \`PUT /global-secrets/user-token-revocations\` (the
  docs' base64 list); wire bytes are counted by a TCP proxy between the zone and global.
- Sizes can be changed by environment variables (see \`bench/lib/config.mjs\`); \`BENCH_QUICK=1\`
  runs a smoke-sized suite in well under a minute.
`;
}

/** Replaces the `## Performance` section (up to the next `## ` heading), or appends it. */
export function writeReadmeSection(path, results) {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const section = performanceSection(results);
  const start = text.search(/^## Performance\s*$/m);
  let next;
  if (start === -1) {
    next = `${text.trimEnd()}${text ? '\n\n' : ''}${section}`;
  } else {
    const rest = text.slice(start + HEADING.length);
    const end = rest.search(/^## /m);
    next = text.slice(0, start) + section + (end === -1 ? '' : `\n${rest.slice(end)}`);
  }
  writeFileSync(path, next.endsWith('\n') ? next : `${next}\n`);
}
