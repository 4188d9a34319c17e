import { connect, createServer } from 'node:net';

/**
 * A TCP proxy on a free loopback port that forwards to `targetPort` and counts the bytes in each
 * direction: what a zone sends global (`upstream`) and what global sends the zone (`downstream`),
 * on the wire (HTTP/2 frames and gRPC framing included).
 */
export async function startCountingProxy(targetPort, targetHost = '127.0.0.1') {
  const counts = { upstream: 0, downstream: 0, connections: 0 };
  const sockets = new Set();
  const server = createServer((client) => {
    counts.connections++;
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk) => {
      counts.upstream += chunk.length;
    });
    upstream.on('data', (chunk) => {
      counts.downstream += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    counts,
    snapshot: () => ({ ...counts }),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
