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
  benchmarks interleave the two sides in batches of a few milliseconds; the auth-overhead
  benchmark runs 40 pairs of 0.75-second autocannon runs back to back from one autocannon process;
  issuing alternates 3-second runs with in-process signing. This machine's speed drifts from
  second to second (other tenants), so pairing close in time is what keeps that out of the
  ratio; the rates shown are each side's median.
- Cold verification: the baseline is raw \`crypto.verify\` over the same tokens, the least any RS256
  check does: cut each token at its last dot, hand over the signing input's bytes and the decoded
  signature. The ratio is the cost of everything else the verifier does (structure and alphabet,
  header, alg, kid, payload JSON, duplicate members, claims, exp, nbf, revocation, the cache).
  Beside it, the stricter ratio against \`crypto.verify\` on bytes decoded before timing starts.
- Issuing: the baseline is raw \`crypto.sign\` in a loop (one thread), measured in the same
  rounds; the issuer signs on libuv's thread pool, which is why it can pass 1×. Beside it, the
  ratio against \`crypto.sign\` with 16 signatures in flight on every core at once, which is
  stricter: the server shares the 2 cores with autocannon (about 100 µs of CPU per request) and
  its own HTTP work, that baseline shares them with nothing.
- Auth overhead: \`GET /\` without a token still runs the authentication hook (the localhost-admin
  rules decide), so the ratio is what a token adds: a ~600-byte header to read, the cache lookup,
  and exp, nbf, revocation and key checks on every request, about 2 µs of server CPU.
- Verification with the revocations held: cold tokens (every one a cache miss) with 1,000,000
  revocations in memory against none; "warm cache" is the same for cache hits, where the
  revocation lookup is a large part of the little work left.
- Server CPU per request (from /proc, all threads) is given beside the HTTP rates: on a busy
  machine it is the steadier measure of what authentication or issuing costs.
- Propagation: from sending \`POST /tokens/user/revocations\` to global until the last zone
  refuses the token. What a "zone" is differs by figure:
  - 2 zones: real \`zone-cp\` processes (API server, data-plane server, SQLite file, sync), polled
    on \`GET /who-am-i\` until it answers 401.
  - 100, 1,000 and 10,000 zones: simulated zones, several hundred per worker process (child
    processes of the benchmark; at most 250 per process for 100 and 1,000, 500 for 10,000, and
    at least one process per core). Each is zone-cp's own sync client (\`createSyncClient\`) with
    its own zone token issued by global for its name, its own gRPC channel and TCP connection
    (the client sets \`grpc.use_local_subchannel_pool\`, so grpc-js never shares one connection
    between zones of a process), its own in-memory SQLite store and user-token family; no API
    or data-plane server. Timed the moment the zone applies the change; that its own verifier
    then refuses the token is checked right after, untimed. In-memory stores: a real zone fsyncs
    to its own disk; thousands on one disk would measure the disk.
  - All of them share this machine's cores with global: at 10,000 zones the zones' side (each
    applying the change in its own store) costs several times global's CPU per revocation, which
    a real deployment spreads over 10,000 machines. \`results.json\` has each phase's CPU time
    (global and zones apart) and the load average beside the times.
- 10,000 zones connecting: the zones are prepared first (stores, families), then all dial at
  once; the figure runs from the first dial until the last zone has applied its first sync
  (its snapshot carries global's key), after which global's \`GET /zones\` lists every one
  connected; \`connectRedials\` counts the streams zones dialed again meanwhile (a reset
  connection, a hello global had not answered in time). Global's file-descriptor limit is raised for it (\`ulimit -n\` in a \`sh\` wrapper,
  up to the hard limit). The global RSS figure at 10,000 streams is measured the same way, after
  a few idle seconds.
- Scale: revocations are imported with one \`PUT /global-secrets/user-token-revocations\` (the
  docs' base64 list); wire bytes are counted by a TCP proxy between the zone and global. The full
  sync runs from starting the zone process (its start-up, about 0.6 s, included) until it has
  applied the snapshot. Global writes the snapshot's chunks as it reads them from its store, and
  the zone applies them as they come; on this one machine the two share its 2 cores, where two
  machines would each have their own. Both RSS
  figures are read 2 s after the work is done (global after the import, the zone after applying
  the snapshot), once its transient garbage is collected; global's peak (VmHWM) is beside. At
  that moment the zone's SQLite checkpointer (a worker thread, 10–15 MB) is usually still
  running for the snapshot's million rows: it stops five idle seconds later. The
  stall figures are the longest of \`GET /who-am-i\` calls made one after another meanwhile, from
  a worker thread of the benchmark (its main thread blocks while it encodes the 49 MB import
  body, and that wait is not the plane's), so on a loaded machine they include waiting for a CPU.
- Every zone-cp process (the idle zone, the scale zone, the 2-zone propagation) runs with the node
  arguments its package declares (\`--max-semi-space-size=2\`; see "Memory" above), as every
  launcher starts it; global-cp with none.
- Before each benchmark the runner calls \`sync\`, so the previous one's writes are on disk and
  not in the way of the next one's fsyncs.${m.note ? `\n- This run: ${m.note}` : ''}
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
