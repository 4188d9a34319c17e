/**
 * The rows of the results table: one per headline figure, each with what it was measured against
 * and its target, shared by the console table and the README's Performance section.
 */
const fmt = (n, digits = 0) => (typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : '—');
const get = (results, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), results);

const rows = [
  {
    key: 'verifyCold.ratio',
    name: 'Cold verification (distinct tokens)',
    result: (r) => `${fmt(r.ratio, 3)}× (${fmt(r.perSecond)}/s)`,
    baseline: (r) => `crypto.verify over the tokens ${fmt(r.baselinePerSecond)}/s; on bytes decoded beforehand ${fmt(r.ratioVsPredecoded, 3)}×`,
    target: '≥ 0.9',
    met: (v) => v >= 0.9,
  },
  {
    key: 'authOverhead.ratio',
    name: 'Auth overhead (GET /who-am-i, warm cache)',
    result: (r) => `${fmt(r.ratio, 3)}× (${fmt(r.perSecond)} req/s)`,
    baseline: (r) =>
      `GET / no token ${fmt(r.baselinePerSecond)} req/s; server CPU ${fmt(r.serverCpuUsPerRequest, 1)} vs ${fmt(r.baselineServerCpuUsPerRequest, 1)} µs/req (${fmt(r.serverCpuRatio, 3)}×)`,
    target: '≥ 0.9',
    met: (v) => v >= 0.9,
  },
  {
    key: 'issue.ratio',
    name: 'Issuing (POST /tokens/user)',
    result: (r) => `${fmt(r.ratio, 3)}× (${fmt(r.perSecond)}/s)`,
    baseline: (r) =>
      `crypto.sign ${fmt(r.baselinePerSecond)}/s; on every core at once ${fmt(r.baselineAllCoresPerSecond)}/s (${fmt(r.ratioVsAllCores, 3)}×); server CPU ${fmt(r.serverCpuUsPerToken)} µs/token vs ${fmt(r.baselineCpuUsPerSignature)} µs/signature (${fmt(r.cpuRatio, 3)}×)`,
    target: '≥ 0.7',
    met: (v) => v >= 0.7,
  },
  ...[
    ['zones2', 'Propagation, 2 zone processes', undefined],
    ['zones100', 'Propagation, 100 zones', 100],
    ['zones1000', 'Propagation, 1,000 zones', 1000],
    ['zones10000', 'Propagation, 10,000 zones', 1000],
  ].map(([setup, name, target]) => ({
    key: `propagation.${setup}.p99Ms`,
    name,
    result: (r) => `p99 ${fmt(r.p99Ms, 1)} ms, p50 ${fmt(r.p50Ms, 1)} ms`,
    baseline: (r) => `${fmt(r.zones)} ${r.kind}, ${fmt(r.samples)} revocations`,
    target: target === undefined ? '—' : `p99 ≤ ${fmt(target)} ms`,
    met: target === undefined ? undefined : (v) => v <= target,
  })),
  {
    key: 'propagation.zones10000.connectSeconds',
    name: '10,000 zones connect and finish their first sync',
    result: (r) => `${fmt(r.connectSeconds, 2)} s`,
    baseline: (r) =>
      `${fmt(r.zones)} ${r.kind} in ${fmt(r.processes)} processes dialing at once; CPU global ${fmt(r.connectCpuSeconds?.global, 1)} s, zones ${fmt(r.connectCpuSeconds?.zones, 1)} s`,
    target: '≤ 30 s',
    met: (v) => v <= 30,
  },
  {
    key: 'scale.importSeconds',
    name: 'Import revocations on global',
    result: (r) => `${fmt(r.importSeconds, 2)} s`,
    baseline: (r) => `${fmt(r.revocations)} jtis, one PUT of ${fmt(r.importRequestMb, 1)} MB`,
    target: '≤ 3 s',
    met: (v) => v <= 3,
  },
  {
    key: 'scale.fullSyncSeconds',
    name: 'Full sync of a fresh zone',
    result: (r) => `${fmt(r.fullSyncSeconds, 2)} s`,
    baseline: (r) => `${fmt(r.fullSyncFromReadySeconds, 2)} s after ready`,
    target: '≤ 3 s',
    met: (v) => v <= 3,
  },
  {
    key: 'scale.snapshotWireMb',
    name: 'Bytes on the wire for that sync',
    result: (r) => `${fmt(r.snapshotWireMb, 1)} MB`,
    baseline: (r) => `${fmt(r.revocations)} UUID jtis × 16 B = ${fmt((r.revocations * 16) / 1e6, 1)} MB`,
    target: '≤ 20 MB',
    met: (v) => v <= 20,
  },
  {
    key: 'scale.globalRssMb',
    name: 'Global RSS holding the revocations',
    result: (r) => `${fmt(r.globalRssMb, 1)} MB`,
    baseline: (r) => `2 s after the import of ${fmt(r.revocations)}; peak ${fmt(r.globalPeakRssMb, 1)} MB`,
    target: '≤ 300 MB',
    met: (v) => v <= 300,
  },
  {
    key: 'scale.zoneRssMb',
    name: 'Zone RSS holding the revocations',
    result: (r) => `${fmt(r.zoneRssMb, 1)} MB`,
    baseline: (r) => `${fmt(r.revocations)} revocations; restarted on its store ${fmt(r.zoneRestartedRssMb, 1)} MB`,
    target: '≤ 150 MB',
    met: (v) => v <= 150,
  },
  ...[
    ['globalImportStallMs', 'Longest GET /who-am-i on global during the import', 'globalIdleStallMs', 'global idle'],
    ['zoneApplyStallMs', 'Longest GET /who-am-i on the zone applying the snapshot', 'zoneIdleStallMs', 'zone idle'],
    ['globalSnapshotStallMs', 'Longest GET /who-am-i on global serving the snapshot', 'globalIdleStallMs', 'global idle'],
  ].map(([key, name, idle, idleName]) => ({
    key: `scale.${key}`,
    name,
    result: (r) => `${fmt(r[key], 1)} ms`,
    baseline: (r) => `${idleName} ${fmt(r[idle], 1)} ms`,
    target: '≤ 100 ms',
    met: (v) => v <= 100,
  })),
  {
    key: 'scale.deltaBytes',
    name: 'Wire bytes for one more revocation',
    result: (r) => `${fmt(r.deltaBytes)} B`,
    baseline: (r) => `ack ${fmt(r.deltaAckBytes)} B back`,
    target: '< 1 KiB',
    met: (v) => v < 1024,
  },
  {
    key: 'scale.verifyRatio',
    name: 'Verification with the revocations held',
    result: (r) => `${fmt(r.verifyRatio, 3)}× (${fmt(r.verifyPerSecond)}/s)`,
    baseline: (r) => `none held ${fmt(r.verifyBaselinePerSecond)}/s; warm cache ${fmt(r.verifyWarmRatio, 3)}×`,
    target: '≥ 0.95',
    met: (v) => v >= 0.95,
  },
  {
    key: 'memory.idleZoneRssMb',
    name: 'Idle zone RSS',
    result: (r) => `${fmt(r.idleZoneRssMb, 1)} MB`,
    baseline: (r) => `idle global ${fmt(r.idleGlobalRssMb, 1)} MB`,
    target: '≤ 100 MB',
    met: (v) => v <= 100,
  },
  {
    key: 'memory.global1000ZonesRssMb',
    name: 'Global RSS serving zone streams',
    result: (r) => `${fmt(r.global1000ZonesRssMb, 1)} MB`,
    baseline: (r) => `${fmt(r.global1000ZonesCount)} zone streams`,
    target: '≤ 512 MB',
    met: (v) => v <= 512,
  },
  {
    key: 'memory.global10000ZonesRssMb',
    name: 'Global RSS serving 10,000 zone streams',
    result: (r) => `${fmt(r.global10000ZonesRssMb, 1)} MB`,
    baseline: (r) => `${fmt(r.global10000ZonesCount)} zone streams, each its own connection and zone token`,
    target: '≤ 1,024 MB',
    met: (v) => v <= 1024,
  },
  {
    key: 'ha.crossReplicaP99Ms',
    name: 'HA: revoke on replica A → refused on B (PostgreSQL)',
    result: (r) => `p99 ${fmt(r.crossReplicaP99Ms, 1)} ms, p50 ${fmt(r.crossReplicaP50Ms, 1)} ms`,
    baseline: (r) => `${fmt(r.samples)} revocations, two global replicas on one database`,
    target: 'p99 ≤ 100 ms',
    met: (v) => v <= 100,
  },
  {
    key: 'ha.revokeP99Ms',
    name: 'HA: one revocation answered (PostgreSQL)',
    result: (r) => `p99 ${fmt(r.revokeP99Ms, 1)} ms, p50 ${fmt(r.revokeP50Ms, 1)} ms`,
    baseline: (r) => `on SQLite p99 ${fmt(r.revokeSqliteP99Ms, 1)} ms, p50 ${fmt(r.revokeSqliteP50Ms, 1)} ms`,
    target: 'p99 ≤ 20 ms',
    met: (v) => v <= 20,
  },
  {
    key: 'ha.failoverSeconds',
    name: 'HA: zone fails over to another global replica',
    result: (r) => `${fmt(r.failoverSeconds, 2)} s`,
    baseline: () => 'SIGKILL of its replica → it refuses a token revoked on the other',
    target: '≤ 5 s',
    met: (v) => v <= 5,
  },
];

/** Every key results.json must carry. */
export const requiredKeys = rows.map((row) => row.key);

/** Table cells for each row: [figure, result, baseline, target, met]. */
export function tableRows(results) {
  return rows.map((row) => {
    const parent = get(results, row.key.split('.').slice(0, -1).join('.'));
    const value = get(results, row.key);
    if (parent === undefined || value === undefined) return [row.name, 'not measured', '', row.target, 'no'];
    const met = row.met ? (row.met(value) ? 'yes' : 'NO') : '—';
    return [row.name, row.result(parent), row.baseline(parent), row.target, met];
  });
}

const header = ['Figure', 'Result', 'Measured against', 'Target', 'Met'];

export function consoleTable(results) {
  const all = [header, ...tableRows(results)];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

export function markdownTable(results) {
  const esc = (c) => String(c).replaceAll('|', '\\|');
  return [header, header.map(() => '---'), ...tableRows(results)].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}
