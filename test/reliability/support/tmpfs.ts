import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  path: string;
  /** Writes a filler file until the filesystem reports ENOSPC. */
  fill(): void;
  /** Deletes the filler: space is back. */
  free(): void;
  unmount(): void;
}

/** A small tmpfs, so "disk full" is the kernel's ENOSPC and not a simulation. Needs root. */
export function mountTmpfs(size: string): Tmpfs | undefined {
  const path = mkdtempSync(join(tmpdir(), 'meshauth-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', path], { stdio: 'ignore' });
  if (mounted.status !== 0) {
    rmSync(path, { recursive: true, force: true });
    return undefined;
  }
  const filler = join(path, 'filler');
  return {
    path,
    fill() {
      const fd = openSync(filler, 'a');
      const block = Buffer.alloc(64 * 1024, 0x61);
      try {
        for (;;) writeSync(fd, block);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        // Top off the last partial block so not even one page is left.
        for (let n = 4096; n >= 1; n = Math.floor(n / 2)) {
          try {
            for (;;) writeSync(fd, block, 0, n);
          } catch {
            /* next smaller size */
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      spawnSync('umount', [path], { stdio: 'ignore' });
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Whether this machine lets the suite mount a tmpfs (root, not a locked-down container). */
export function canMountTmpfs(): boolean {
  const probe = mountTmpfs('1m');
  probe?.unmount();
  return probe !== undefined;
}
