import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonProcess } from './daemon-process.mjs';

/** The zones of the demo and the user-token keys each asks global for. */
export const demoZones = [
  { name: 'zone-1', asks: 'public' },
  { name: 'zone-2', asks: 'private' },
];

/** Loopback only, port 0 everywhere: the demo never collides with anything else on the machine. */
const loopback = {
  MESHAUTH_API_SERVER_HTTP_INTERFACE: '127.0.0.1',
  MESHAUTH_API_SERVER_HTTP_PORT: '0',
  MESHAUTH_API_SERVER_HTTPS_INTERFACE: '127.0.0.1',
  MESHAUTH_API_SERVER_HTTPS_PORT: '0',
  // GET /ready and /healthy: a zone and global on one host need ports of their own here too.
  MESHAUTH_DIAGNOSTICS_SERVER_INTERFACE: '127.0.0.1',
  MESHAUTH_DIAGNOSTICS_SERVER_PORT: '0',
};

/**
 * One global and the zones, each a real process with its SQLite file in `workDir`. Keeps track
 * of what it started so that `stopAll` can always stop it.
 */
export class Topology {
  /** @param {{ repoRoot: string, workDir: string, keep: boolean }} options */
  constructor(options) {
    this.options = options;
    /** @type {DaemonProcess | undefined} */
    this.global = undefined;
    /** @type {Map<string, DaemonProcess>} */
    this.zones = new Map();
  }

  get processes() {
    return [this.global, ...this.zones.values()].filter(Boolean);
  }

  /** Global allows `private`, the most any zone may ask for; each zone's ask decides its mode. */
  async startGlobal() {
    this.global = this.spawn('global-cp', 'global', {
      MESHAUTH_STORE_SQLITE_PATH: join(this.options.workDir, 'global.db'),
      MESHAUTH_MULTIZONE_GLOBAL_SYNC_PORT: '0',
      MESHAUTH_MULTIZONE_GLOBAL_SYNC_INTERFACE: '127.0.0.1',
      MESHAUTH_MULTIZONE_GLOBAL_SYNC_USER_TOKEN_KEYS: 'private',
    });
    const ready = await this.global.waitUntilReady();
    if (typeof ready.syncPort !== 'number') {
      throw new Error(`global-cp's ready line names no syncPort (is the sync server built?): ${JSON.stringify(ready)}`);
    }
    return ready;
  }

  /** Writes the zone's token (mode 0600, it is a credential) and starts the zone against global. */
  async startZone(zone, zoneToken) {
    const tokenFile = join(this.options.workDir, `${zone.name}.token`);
    writeFileSync(tokenFile, zoneToken, { mode: 0o600 });
    const daemon = this.spawn('zone-cp', zone.name, {
      MESHAUTH_STORE_SQLITE_PATH: join(this.options.workDir, `${zone.name}.db`),
      MESHAUTH_DP_SERVER_PORT: '0',
      MESHAUTH_DP_SERVER_INTERFACE: '127.0.0.1',
      MESHAUTH_MULTIZONE_ZONE_NAME: zone.name,
      MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS: `grpc://127.0.0.1:${this.global.ready.syncPort}`,
      MESHAUTH_MULTIZONE_ZONE_GLOBAL_TOKEN_FILE: tokenFile,
      MESHAUTH_MULTIZONE_ZONE_SYNC_USER_TOKEN_KEYS: zone.asks,
    });
    this.zones.set(zone.name, daemon);
    return daemon.waitUntilReady();
  }

  url(label) {
    const daemon = label === 'global' ? this.global : this.zones.get(label);
    return `http://127.0.0.1:${daemon.ready.httpPort}`;
  }

  dpServerUrl(zoneName) {
    return `http://127.0.0.1:${this.zones.get(zoneName).ready.dpServerPort}`;
  }

  /**
   * Stops every process started (zones first, so they do not log global's going away) and removes
   * the folder. Resolves with a label per process that was still running.
   */
  async stopAll({ removeFiles }) {
    const stopped = this.processes.filter((p) => p.running).map((p) => `${p.label} (pid ${p.pid})`);
    await Promise.all([...this.zones.values()].map((d) => d.stop()));
    await this.global?.stop();
    if (removeFiles) rmSync(this.options.workDir, { recursive: true, force: true });
    return stopped;
  }

  spawn(kind, label, env) {
    return new DaemonProcess({
      kind,
      label,
      repoRoot: this.options.repoRoot,
      workDir: this.options.workDir,
      env: { ...loopback, ...env },
      detached: this.options.keep,
    });
  }
}
