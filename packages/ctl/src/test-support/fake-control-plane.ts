import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeReply {
  status?: number;
  contentType?: string;
  body?: unknown;
}

export interface FakeControlPlane {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A tiny node:http server on port 0 that answers from `handler` and records what it was sent. */
export async function startFakeControlPlane(
  handler: (req: RecordedRequest) => FakeReply | Promise<FakeReply>,
): Promise<FakeControlPlane> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      requests.push(recorded);
      const reply = await handler(recorded);
      const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function problem(status: number, title: string, detail: string, extra: object = {}): FakeReply {
  return {
    status,
    contentType: 'application/problem+json',
    body: { type: `https://meshauth.dev/problems/${status}`, status, title, detail, ...extra },
  };
}
