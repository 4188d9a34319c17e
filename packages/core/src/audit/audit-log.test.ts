import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { createAuditFileSink } from './audit-file-sink.js';
import { AuditLog, type AuditEvent } from './audit-log.js';

const DAY = 24 * 3_600_000;
const event = (target: string): AuditEvent => ({ actor: { name: 'john', groups: ['ops'] }, action: 'secret.put', target, result: 'success', requestId: 'req-1' });
let dir: string;
let store: SqliteStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshauth-audit-'));
  store = SqliteStore.open(join(dir, 'global.db'));
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AuditLog', () => {
  it('prunes entries older than the retention, and keeps the rest', async () => {
    const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const log = new AuditLog({ store, clock, plane: 'global', instance: 'i-1' });
    await log.append(event('old'));
    clock.advance(60 * DAY);
    await log.append(event('newer'));
    clock.advance(31 * DAY);
    expect(await log.prune(90 * DAY)).toBe(1);
    expect((await store.read.listAudit({ limit: 10 })).map((e) => e.target)).toEqual(['newer']);
    clock.advance(60 * DAY);
    expect(await log.prune(90 * DAY)).toBe(1);
    expect(await store.read.listAudit({ limit: 10 })).toEqual([]);
  });

  it('writes each entry to the file sink as one JSON line, in the order of the store', async () => {
    const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const file = join(dir, 'audit.jsonl');
    const log = new AuditLog({ store, clock, plane: 'zone', instance: 'i-2', sink: createAuditFileSink(file) });
    await log.append(event('first'));
    await log.append(event('second'));
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(lines).toEqual([
      { time: '2026-01-01T00:00:00.000Z', actor: 'john', actorGroups: ['ops'], action: 'secret.put', target: 'first', result: 'success', plane: 'zone', instance: 'i-2', requestId: 'req-1' },
      expect.objectContaining({ target: 'second' }),
    ]);
  });

  it('rolls the action back when the sink cannot take the entry', async () => {
    const clock = createManualClock(0);
    const failing = { append: () => { throw Object.assign(new Error('disk full'), { code: 'ERR_AUDIT_UNAVAILABLE' }); } };
    const log = new AuditLog({ store, clock, plane: 'global', instance: 'i-1', sink: failing });
    await expect(
      store.transaction(async (tx) => {
        await tx.putSecret({ mesh: '', name: 'action', data: Buffer.from('x'), updatedAt: 0 });
        await log.write(tx, event('action'));
      }),
    ).rejects.toThrow('disk full');
    expect(await store.read.getSecret('', 'action')).toBeUndefined();
    expect(await store.read.listAudit({ limit: 10 })).toEqual([]);
  });

  it('refuses to start with a file it cannot open', () => {
    expect(() => createAuditFileSink(join(dir, 'missing', 'audit.jsonl'))).toThrow(/audit\.file \(MESHAUTH_AUDIT_FILE\): cannot open/);
  });
});
