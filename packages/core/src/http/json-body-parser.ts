import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';

/** Bodies larger than this are parsed on a worker thread; smaller ones where fastify parses them. */
export const OFF_LOOP_JSON_BYTES = 1 << 20;

// CommonJS, run as the worker's script: the same parser and poisoning rules as fastify's default
// (secure-json-parse, `__proto__` and `constructor.prototype` refused), one body per message.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const secureJsonParse = require(workerData.secureJsonParse);
parentPort.on('message', ({ id, body }) => {
  try {
    parentPort.postMessage({ id, value: secureJsonParse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'), { protoAction: 'error', constructorAction: 'error' }) });
  } catch {
    parentPort.postMessage({ id, invalid: true });
  }
});
`;

/**
 * Parses JSON bodies as fastify does, with those over `OFF_LOOP_JSON_BYTES` (a revocation list of
 * thousands: 49 MB for a million) parsed on a worker thread. Parsed on the event loop, such a body
 * held every request up for a few hundred milliseconds (decoding it, the poisoning scans, the parse);
 * here the loop only copies the result back. Errors are fastify's own (empty body, invalid JSON).
 */
export function parseLargeJsonOffLoop(app: FastifyInstance): void {
  const parseHere = app.getDefaultJsonParser('error', 'error');
  const worker = new LargeJsonWorker();
  app.addHook('onClose', async () => worker.close());
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void) => {
    if (body.length <= OFF_LOOP_JSON_BYTES) return parseHere(request, body.toString('utf8'), done);
    worker.parse(body).then(
      (value) => done(null, value),
      (error: Error) => done(error),
    );
  });
}

/** One worker, started on the first large body, shared by the app's requests in the order they come. */
class LargeJsonWorker {
  private worker: Worker | undefined;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  parse(body: Buffer): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Moved, not copied, when the body owns its memory (fastify concatenates a large body afresh).
      const owns = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
      this.started().postMessage({ id, body }, owns ? [body.buffer as ArrayBuffer] : []);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { secureJsonParse: fastifyRequire.resolve('secure-json-parse') } });
    worker.unref();
    worker.on('message', (message: { id: number; value?: unknown; invalid?: boolean }) => {
      const waiting = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.invalid) waiting?.reject(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY());
      else waiting?.resolve(message.value);
    });
    // A worker that dies fails the bodies it held (a 500 each); the next large body starts another.
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new Error('the JSON parsing worker stopped'));
    });
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const { reject } of this.waiting.values()) reject(error);
    this.waiting.clear();
  }
}
