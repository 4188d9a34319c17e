import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Topology } from '../demo/topology.mjs';
import { DemoPostgres } from './demo-postgres.mjs';

/**
 * The HA demo's processes: global's PostgreSQL 18 with the global-cp replicas on it, and a zone
 * whose replicas share a database of their own, on a second server (so that global's database
 * outage does not take the zone's along), listing every global replica's sync address. The
 * daemons are the `pnpm demo` ones (scripts/demo/topology.mjs: loopback, port 0, logs in
 * `workDir`); this adds the databases and the replicas, and stops all of it in order: zone
 * replicas, global replicas, then the databases.
 */
export class HaTopology extends Topology {
  /** @param {{ repoRoot: string, workDir: string }} options */
  constructor(options) {
    super({ ...options, keep: false });
    /** @type {import('../demo/daemon-process.mjs').DaemonProcess[]} */
    this.replicas = [];
    /** @type {import('../demo/daemon-process.mjs').DaemonProcess[]} */
    this.zoneReplicas = [];
    /** Global's database, then the zone's. */
    this.globalDb = new DemoPostgres({ label: 'postgres', workDir: options.workDir, dbName: 'meshauth' });
    this.zoneDb = new DemoPostgres({ label: 'postgres-zone', workDir: options.workDir, dbName: 'zone' });
  }

  /** The control planes started (the Topology contract: what can be stopped and whose log to show). */
  get processes() {
    return [...this.replicas, ...this.zoneReplicas];
  }

  /** The databases' last log lines, for a failure message. */
  postgresTails() {
    return [this.globalDb, this.zoneDb].filter((db) => db.port !== undefined).map((db) => ({ label: db.label, tail: db.tail() }));
  }

  /** Starts `count` global-cp replicas at once on the database, as global-1, global-2, …; resolves with them once all are ready. */
  async startReplicas(count) {
    const started = [];
    for (let i = 1; i <= count; i++) {
      const replica = this.spawn('global-cp', `global-${i}`, {
        ...this.globalDb.env,
        MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false',
        MESHAUTH_MULTIZONE_GLOBAL_SYNC_PORT: '0',
        MESHAUTH_MULTIZONE_GLOBAL_SYNC_INTERFACE: '127.0.0.1',
        MESHAUTH_MULTIZONE_GLOBAL_SYNC_USER_TOKEN_KEYS: 'public',
      });
      this.replicas.push(replica);
      started.push(replica);
    }
    await Promise.all(started.map((replica) => replica.waitUntilReady()));
    for (const replica of started) {
      if (typeof replica.ready.syncPort !== 'number') throw new Error(`${replica.label}'s ready line names no syncPort: ${JSON.stringify(replica.ready)}`);
    }
    return started;
  }

  replica(label) {
    const replica = this.replicas.find((r) => r.label === label);
    if (!replica) throw new Error(`no replica ${label}`);
    return replica;
  }

  syncAddress(replica) {
    return `grpc://127.0.0.1:${replica.ready.syncPort}`;
  }

  /** The replica whose sync address is `address`. */
  replicaAt(address) {
    return this.replicas.find((r) => this.syncAddress(r) === address);
  }

  /**
   * The zone as `count` zone-cp replicas at once on the zone's database (zone-1a, zone-1b, …), each
   * dialing the global replicas in the order given; resolves with them once all are ready.
   */
  async startZoneReplicas(name, zoneToken, globals, count) {
    const tokenFile = join(this.options.workDir, `${name}.token`);
    writeFileSync(tokenFile, zoneToken, { mode: 0o600 });
    const globalAddress = globals.map((r) => this.syncAddress(r)).join(',');
    const started = [];
    for (let i = 0; i < count; i++) {
      const daemon = this.spawn('zone-cp', `${name}${String.fromCharCode(97 + i)}`, {
        ...this.zoneDb.env,
        MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false',
        MESHAUTH_DP_SERVER_PORT: '0',
        MESHAUTH_DP_SERVER_INTERFACE: '127.0.0.1',
        MESHAUTH_MULTIZONE_ZONE_NAME: name,
        MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS: globalAddress,
        MESHAUTH_MULTIZONE_ZONE_GLOBAL_TOKEN_FILE: tokenFile,
        MESHAUTH_MULTIZONE_ZONE_SYNC_USER_TOKEN_KEYS: 'public',
      });
      this.zoneReplicas.push(daemon);
      started.push(daemon);
    }
    await Promise.all(started.map((daemon) => daemon.waitUntilReady()));
    return { replicas: started, globalAddress };
  }

  daemon(label) {
    return this.zoneReplicas.find((r) => r.label === label) ?? this.replica(label);
  }

  url(label) {
    return `http://127.0.0.1:${this.daemon(label).ready.httpPort}`;
  }

  dpServerUrl(label) {
    return `http://127.0.0.1:${this.daemon(label).ready.dpServerPort}`;
  }

  /** SIGKILL: no shutdown at all, as when a machine dies. */
  async kill(daemon) {
    daemon.child.kill('SIGKILL');
    await daemon.exited;
  }

  /**
   * Stops everything started, whatever state it is in: the zone replicas, then global's replicas
   * (SIGTERM, SIGKILL after 10 s), then both PostgreSQL servers (their data deleted), then the
   * work folder. Resolves with a description of what it stopped.
   */
  async stopAll({ removeFiles }) {
    const stopped = [];
    for (const daemon of [...this.zoneReplicas, ...this.replicas]) if (daemon.running) stopped.push(`${daemon.label} (pid ${daemon.pid})`);
    await Promise.all(this.zoneReplicas.map((d) => d.stop()));
    await Promise.all(this.replicas.map((d) => d.stop()));
    // Both, even if one of them fails to stop.
    const databases = [this.globalDb, this.zoneDb];
    const results = await Promise.allSettled(databases.map((db) => db.stop()));
    for (const [i, result] of results.entries()) {
      if (result.status === 'fulfilled' && result.value) stopped.push(`${databases[i].label} (pid ${result.value.pid})`);
    }
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (removeFiles) rmSync(this.options.workDir, { recursive: true, force: true });
    return stopped;
  }
}
