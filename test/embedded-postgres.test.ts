// The PostgreSQL the tests, the HA demo and the bench start (scripts/lib/embedded-postgres.mjs):
// a port taken between being found free and the server binding it must not end a run with an
// empty error. The server starts again on another port, or says why it could not start.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startEmbeddedPostgres } from '../scripts/lib/embedded-postgres.mjs';

/** A loopback listener holding a port, as another process holding it would. */
let squatter: Server;
let takenPort: number;

beforeAll(async () => {
  squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  takenPort = (squatter.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => squatter.close(resolve));
});

describe('startEmbeddedPostgres', () => {
  it('starts again on another port when the first one is taken before the server binds it', async () => {
    const offered: number[] = [];
    const logged: string[] = [];
    const choosePort = async () => {
      const port = offered.length === 0 ? takenPort : await freePort();
      offered.push(port);
      return port;
    };
    const pg = await startEmbeddedPostgres({ choosePort, log: (message) => logged.push(String(message)) });
    try {
      expect(offered).toHaveLength(2);
      expect(pg.settings.port).toBe(offered[1]);
      expect(pg.env.MESHAUTH_STORE_POSTGRES_PORT).toBe(String(offered[1]));
      expect(await pg.query('select 1 as one')).toEqual([{ one: 1 }]);
      expect(logged.join('')).toContain(`PostgreSQL exited before it was ready (port ${takenPort}, attempt 1 of 3)`);
    } finally {
      await pg.stop();
    }
  });

  it('names the port and quotes the server when the port it was given is taken', async () => {
    const started = startEmbeddedPostgres({ port: takenPort });
    await expect(started).rejects.toThrow(`PostgreSQL exited before it was ready (port ${takenPort}); its last output:`);
    await expect(started).rejects.toThrow('could not bind IPv4 address "127.0.0.1": Address already in use');
  });
});
