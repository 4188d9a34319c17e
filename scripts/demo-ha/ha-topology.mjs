import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Topology } from '../demo/topology.mjs';
import { startEmbeddedPostgres } from '../lib/embedded-postgres.mjs';
import { findPostmaster, isAlive } from './postgres-process.mjs';

/** How long an orderly PostgreSQL shutdown may take before the demo sends SIGQUIT (immediate shutdown). */
const POSTGRES_STOP_GRACE_MS = 20_000;

/**
 * The HA demo's processes: one embedded PostgreSQL 18, global-cp replicas on it and a zone (its
 * own SQLite file) that lists every replica's sync address. The daemons are the `pnpm demo`
 * ones (scripts/demo/topology.mjs: loopback, port 0, logs in `workDir`); this adds the database
 * and the replicas, and stops all of it in order: zone, replicas, then PostgreSQL.
 */
export class HaTopology extends Topology {
  /** @param {{ repoRoot: string, workDir: string }} options */
  constructor(options) {
    super({ ...options, keep: false });
    /** @type {import('../demo/daemon-process.mjs').DaemonProcess[]} */
    this.replicas = [];
    /** @type {import('../lib/embedded-postgres.mjs').EmbeddedPostgresServer | undefined} */
    this.pg = undefined;
    /** The running postmaster: `{ pid, dataDir }`, undefined while the database is stopped. */
    this.postmaster = undefined;
    /** The last PostgreSQL operation (start, pause, resume): stopping waits for it first. */
    this.pgOperation = Promise.resolve();
    this.postgresLog = join(options.workDir, 'postgres.log');
  }

  /** The control planes started (the Topology contract: what can be stopped and whose log to show). */
  get processes() {
    return [...this.replicas, ...this.zones.values()];
  }

  async startPostgres() {
    const log = (message) => {
      const text = message instanceof Error ? (message.stack ?? message.message) : String(message);
      try {
        appendFileSync(this.postgresLog, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
      } catch {
        // the work folder is gone: the demo is ending
      }
    };
    await this.track(async () => {
      this.pg = await startEmbeddedPostgres({ log });
      this.postmaster = findPostmaster(this.pg.settings.port);
      if (!this.postmaster) throw new Error(`PostgreSQL started, but no postgres child listening on port ${this.pg.settings.port} is to be found in /proc`);
    });
    return this.postmaster;
  }

  /** "18" from the data directory's PG_VERSION, or undefined if it cannot be read. */
  postgresVersion() {
    try {
      return readFileSync(join(this.postmaster.dataDir, 'PG_VERSION'), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /** The last lines of PostgreSQL's log, for a failure message. */
  postgresTail(count = 15) {
    try {
      return readFileSync(this.postgresLog, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops the server and keeps its data (a database outage). */
  async pausePostgres() {
    await this.track(async () => {
      await this.pg.pause();
      this.postmaster = undefined;
    });
  }

  /** Starts the same database again: a new postmaster, returned. */
  async resumePostgres() {
    await this.track(async () => {
      await this.pg.resume();
      this.postmaster = findPostmaster(this.pg.settings.port);
      if (!this.postmaster) throw new Error('PostgreSQL restarted, but its postmaster is not to be found in /proc');
    });
    return this.postmaster;
  }

  /** Starts `count` global-cp replicas at once on the database, as global-1, global-2, …; resolves with them once all are ready. */
  async startReplicas(count) {
    const started = [];
    for (let i = 1; i <= count; i++) {
      const replica = this.spawn('global-cp', `global-${i}`, {
        ...this.pg.env,
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

  /** A zone on its own SQLite file that dials the replicas in the order given. */
  async startHaZone(name, zoneToken, replicas) {
    const tokenFile = join(this.options.workDir, `${name}.token`);
    writeFileSync(tokenFile, zoneToken, { mode: 0o600 });
    const globalAddress = replicas.map((r) => this.syncAddress(r)).join(',');
    const daemon = this.spawn('zone-cp', name, {
      MESHAUTH_STORE_SQLITE_PATH: join(this.options.workDir, `${name}.db`),
      MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false',
      MESHAUTH_DP_SERVER_PORT: '0',
      MESHAUTH_DP_SERVER_INTERFACE: '127.0.0.1',
      MESHAUTH_MULTIZONE_ZONE_NAME: name,
      MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS: globalAddress,
      MESHAUTH_MULTIZONE_ZONE_GLOBAL_TOKEN_FILE: tokenFile,
      MESHAUTH_MULTIZONE_ZONE_SYNC_USER_TOKEN_KEYS: 'public',
    });
    this.zones.set(name, daemon);
    await daemon.waitUntilReady();
    return { daemon, globalAddress };
  }

  url(label) {
    const daemon = this.zones.get(label) ?? this.replica(label);
    return `http://127.0.0.1:${daemon.ready.httpPort}`;
  }

  /** SIGKILL: no shutdown at all, as when a machine dies. */
  async kill(daemon) {
    daemon.child.kill('SIGKILL');
    await daemon.exited;
  }

  /**
   * Stops everything started, whatever state it is in: the zones, then the replicas (SIGTERM,
   * SIGKILL after 10 s), then PostgreSQL (its data deleted), then the work folder. Resolves with
   * a description of what it stopped.
   */
  async stopAll({ removeFiles }) {
    const stopped = [];
    for (const daemon of [...this.zones.values(), ...this.replicas]) if (daemon.running) stopped.push(`${daemon.label} (pid ${daemon.pid})`);
    await Promise.all([...this.zones.values()].map((d) => d.stop()));
    await Promise.all(this.replicas.map((d) => d.stop()));
    const postmaster = await this.stopPostgres();
    if (postmaster) stopped.push(`postgres (pid ${postmaster.pid})`);
    if (removeFiles) rmSync(this.options.workDir, { recursive: true, force: true });
    return stopped;
  }

  async stopPostgres() {
    await this.pgOperation.catch(() => {});
    // A server embedded-postgres never handed over (it failed half-way): ours all the same.
    const postmaster = this.postmaster ?? (this.pg ? undefined : findPostmaster());
    if (!this.pg || (postmaster && !isAlive(postmaster.pid))) {
      // No handle, or the server already exited by itself (a Ctrl-C reaches the whole terminal
      // group): embedded-postgres' stop() would wait forever for its exit event.
      if (postmaster) {
        await stopPid(postmaster.pid);
        removePostgresRoot(postmaster.dataDir);
      }
    } else {
      const timer = setTimeout(() => postmaster && isAlive(postmaster.pid) && process.kill(postmaster.pid, 'SIGQUIT'), POSTGRES_STOP_GRACE_MS);
      try {
        await this.pg.stop();
      } finally {
        clearTimeout(timer);
      }
    }
    this.postmaster = undefined;
    this.pg = undefined;
    return postmaster;
  }

  async track(operation) {
    const done = this.pgOperation.catch(() => {}).then(operation);
    this.pgOperation = done;
    return done;
  }
}

/** SIGINT (PostgreSQL's fast shutdown), SIGQUIT after the grace period; resolves once the pid is gone. */
async function stopPid(pid) {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + POSTGRES_STOP_GRACE_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGQUIT');
      break;
    }
    await sleep(50);
  }
}

/** The folder scripts/lib/embedded-postgres.mjs made for the server (`<tmp>/meshauth-pg-*`, holding `data`). */
function removePostgresRoot(dataDir) {
  const root = dirname(dataDir);
  if (basename(dataDir) === 'data' && basename(root).startsWith('meshauth-pg-')) rmSync(root, { recursive: true, force: true });
}
