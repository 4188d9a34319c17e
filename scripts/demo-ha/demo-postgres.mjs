import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startEmbeddedPostgres } from '../lib/embedded-postgres.mjs';
import { findPostmaster, isAlive } from './postgres-process.mjs';

/** How long an orderly PostgreSQL shutdown may take before the demo sends SIGQUIT (immediate shutdown). */
const POSTGRES_STOP_GRACE_MS = 20_000;

/**
 * One embedded PostgreSQL 18 server of the HA demo (global's, or a zone's): its port chosen
 * before it starts (so that a server embedded-postgres never handed over is still found, and
 * never mistaken for another of the demo's servers), its log in the work folder, its postmaster
 * tracked through outages, and a stop that works whatever state it is in.
 */
export class DemoPostgres {
  /** @param {{ label: string, workDir: string, dbName: string }} options */
  constructor({ label, workDir, dbName }) {
    this.label = label;
    this.dbName = dbName;
    this.log = join(workDir, `${label}.log`);
    /** @type {import('../lib/embedded-postgres.mjs').EmbeddedPostgresServer | undefined} */
    this.pg = undefined;
    /** The port it was (last) started on, known before embedded-postgres hands the server over. */
    this.port = undefined;
    /** The running postmaster: `{ pid, dataDir }`, undefined while the database is stopped. */
    this.postmaster = undefined;
    /** The last operation (start, pause, resume): stopping waits for it first. */
    this.operation = Promise.resolve();
  }

  get settings() {
    return this.pg.settings;
  }

  /** The daemons' MESHAUTH_STORE_* settings for this server's database. */
  get env() {
    return this.pg.env;
  }

  async start() {
    const log = (message) => {
      const text = message instanceof Error ? (message.stack ?? message.message) : String(message);
      try {
        appendFileSync(this.log, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
      } catch {
        // the work folder is gone: the demo is ending
      }
    };
    await this.track(async () => {
      this.pg = await startEmbeddedPostgres({ dbName: this.dbName, log, choosePort: async () => (this.port = await freePort()) });
      this.postmaster = findPostmaster(this.port);
      if (!this.postmaster) throw new Error(`${this.label} started, but no postgres child listening on port ${this.port} is to be found in /proc`);
    });
    return this.postmaster;
  }

  /** "18" from the data directory's PG_VERSION, or undefined if it cannot be read. */
  version() {
    try {
      return readFileSync(join(this.postmaster.dataDir, 'PG_VERSION'), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /** The last lines of the server's log, for a failure message. */
  tail(count = 15) {
    try {
      return readFileSync(this.log, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops the server and keeps its data (a database outage). */
  async pause() {
    await this.track(async () => {
      await this.pg.pause();
      this.postmaster = undefined;
    });
  }

  /** Starts the same database again: a new postmaster, returned. */
  async resume() {
    await this.track(async () => {
      await this.pg.resume();
      this.postmaster = findPostmaster(this.port);
      if (!this.postmaster) throw new Error(`${this.label} restarted, but its postmaster is not to be found in /proc`);
    });
    return this.postmaster;
  }

  /** Stops the server, whatever state it is in, and deletes its data; resolves with the postmaster it stopped, if any. */
  async stop() {
    await this.operation.catch(() => {});
    // A server embedded-postgres never handed over (it failed half-way): ours all the same.
    const postmaster = this.postmaster ?? (this.pg || this.port === undefined ? undefined : findPostmaster(this.port));
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
    const done = this.operation.catch(() => {}).then(operation);
    this.operation = done;
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
