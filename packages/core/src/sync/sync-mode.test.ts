import { describe, expect, it } from 'vitest';
import { effectiveSyncMode, fromProtoMode, toProtoMode } from './sync-mode.js';

describe('effectiveSyncMode', () => {
  it('is the lesser of what the zone asks and what global allows', () => {
    const modes = ['off', 'public', 'private'] as const;
    const table = modes.map((zone) => modes.map((global) => effectiveSyncMode(zone, global)));
    expect(table).toEqual([
      ['off', 'off', 'off'],
      ['off', 'public', 'public'],
      ['off', 'public', 'private'],
    ]);
  });

  it('reads unknown or unspecified wire modes as off', () => {
    expect(fromProtoMode('SYNC_MODE_UNSPECIFIED')).toBe('off');
    expect(fromProtoMode(undefined)).toBe('off');
    expect(fromProtoMode(toProtoMode('private'))).toBe('private');
    expect(fromProtoMode(toProtoMode('public'))).toBe('public');
    expect(fromProtoMode(toProtoMode('off'))).toBe('off');
  });

  it('writes each mode as its wire name', () => {
    expect((['off', 'public', 'private'] as const).map(toProtoMode)).toEqual(['SYNC_MODE_OFF', 'SYNC_MODE_PUBLIC', 'SYNC_MODE_PRIVATE']);
  });
});
