import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy between a zone and global, in the test process: passes bytes, drops connections,
 * stalls them (a black hole: the stream looks open but nothing arrives), and records every byte it
 * passed so a test can search the capture.
 */
export interface TcpProxy {
  port: number;
  /** Where new connections go (global restarted on another port). */
  setTargetPort(port: number): void;
  /** Resets every connection and refuses new ones until restore(). */
  drop(): void;
  /** Keeps connections open but lets nothing through, either way, until restore(). */
  stall(): void;
  /** Back to passing bytes; connections that were stalled are reset (their streams lost bytes). */
  restore(): void;
  /** Stalls every connection the moment `bytes` more have gone from global to the zone. */
  stallAfter(bytes: number): Promise<void>;
  /** Every byte passed so far, both directions. */
  capture(): Buffer;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Bytes passed from global to the zone so far. */
  readonly downstreamBytes: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let mode: 'pass' | 'drop' | 'stall' = 'pass';
  let target = targetPort;
  let accepted = 0;
  let downstreamBytes = 0;
  let tripwire: { at: number; fire: () => void } | undefined;
  const captured: Buffer[] = [];
  const live = new Set<{ client: Socket; upstream: Socket; stalled: boolean }>();

  const server = createServer((client) => {
    accepted += 1;
    if (mode === 'drop') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: target });
    const pair = { client, upstream, stalled: mode === 'stall' };
    live.add(pair);
    const pipe = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (pair.stalled) return;
        if (from === upstream) downstreamBytes += chunk.length;
        captured.push(Buffer.from(chunk));
        if (tripwire && downstreamBytes >= tripwire.at) {
          // Synchronously and before forwarding this chunk, so the stall lands mid-transfer for sure.
          const { fire } = tripwire;
          tripwire = undefined;
          mode = 'stall';
          for (const p of live) p.stalled = true;
          fire();
          return;
        }
        to.write(chunk);
      });
    pipe(client, upstream);
    pipe(upstream, client);
    const end = () => {
      live.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    get accepted() {
      return accepted;
    },
    get downstreamBytes() {
      return downstreamBytes;
    },
    setTargetPort(p) {
      target = p;
    },
    drop() {
      mode = 'drop';
      for (const pair of live) {
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
      }
    },
    stall() {
      mode = 'stall';
      for (const pair of live) pair.stalled = true;
    },
    restore() {
      mode = 'pass';
      for (const pair of live) {
        if (!pair.stalled) continue;
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
      }
    },
    stallAfter(bytes) {
      return new Promise((resolve) => {
        tripwire = { at: downstreamBytes + bytes, fire: resolve };
      });
    },
    capture: () => Buffer.concat(captured),
    async close() {
      for (const pair of live) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
