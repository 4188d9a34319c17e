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
- Throughput benchmarks alternate the measured side and its baseline in rounds; on a shared
  machine other processes only ever slow a round down, so each side's fastest round is compared
  (\`medianRoundRatio\` in results.json is the median of the per-round ratios).
- Cold verification: the baseline is \`crypto.verify\` alone over pre-decoded signing inputs and
  signatures of the same tokens. Issuing: the baseline is \`crypto.sign\` on libuv's thread pool
  with 16 signatures in flight (all cores), like the issuer's own signing.
- Propagation: from sending \`POST /tokens/user/revocations\` to global until the last zone
  refuses the token. 2 zones are real \`zone-cp\` processes polled on \`GET /who-am-i\`; 100 and
  1,000 zones are zone-cp's own sync client (\`createSyncClient\`), 250 per process, each with its
  own in-memory SQLite store (a real zone fsyncs to its own disk; a thousand on one disk would
  measure the disk), checked with the zone's own verifier the moment it applies the change.
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
