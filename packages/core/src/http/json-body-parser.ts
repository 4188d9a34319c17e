import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';

/** Bodies larger than this are parsed on a worker thread; smaller ones where fastify parses them. */
export const OFF_LOOP_JSON_BYTES = 1 << 20;

// CommonJS, run as the worker's script: the body's bytes arrive as they are read, then "end"; it
// is parsed with the same parser and poisoning rules as fastify's default (secure-json-parse,
// `__proto__` and `constructor.prototype` refused).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const secureJsonParse = require(workerData.secureJsonParse);
const chunks = [];
parentPort.on('message', (message) => {
  if (message !== 'end') return void chunks.push(message);
  const text = Buffer.concat(chunks).toString('utf8');
  chunks.length = 0;
  try {
    parentPort.postMessage({ value: secureJsonParse(text, { protoAction: 'error', constructorAction: 'error' }) });
  } catch {
    parentPort.postMessage({ invalid: true });
  }
});
`;

type Done = (error: Error | null, value?: unknown) => void;

/**
 * Parses JSON bodies as fastify does, with those over `OFF_LOOP_JSON_BYTES` (a revocation list of
 * thousands: 49 MB for a million) parsed on a worker thread. Parsed on the event loop, such a body
 * held every request up for a few hundred milliseconds (decoding it, the poisoning scans, the
 * parse). Its bytes go to the worker as they are read: joining 49 MB of chunks into one buffer
 * alone held the loop for a tenth of a second, and here that happens on the worker too. The loop
 * only copies each chunk once and the result back.
 *
 * Reading the stream itself means doing what fastify does for a body it reads (its `rawBody`),
 * with the same errors: the route's body limit (by Content-Length before reading, by bytes while
 * reading), a Content-Length the body does not match, a stream error as a 400, an empty body.
 */
export function parseLargeJsonOffLoop(app: FastifyInstance): void {
  const parseHere = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', (request: FastifyRequest, payload: Readable & { receivedEncodedLength?: number }, done: Done) => {
    const limit = request.routeOptions.bodyLimit;
    const contentLength = Number(request.headers['content-length']);
    if (contentLength > limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    let received = 0;
    let chunks: Buffer[] = [];
    let worker: BodyWorker | undefined;
    const stop = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
    };
    function onData(data: Buffer | string) {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      received += chunk.length;
      if (received > limit || (payload.receivedEncodedLength ?? 0) > limit) {
        stop();
        worker?.abandon();
        return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      }
      if (worker) return worker.send(chunk);
      chunks.push(chunk);
      if (received <= OFF_LOOP_JSON_BYTES) return;
      worker = new BodyWorker();
      for (const held of chunks) worker.send(held);
      chunks = [];
    }
    function onEnd(error?: Error & { statusCode?: number }) {
      stop();
      if (error) {
        worker?.abandon();
        if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
        return done(error);
      }
      if (!Number.isNaN(contentLength) && (payload.receivedEncodedLength || received) !== contentLength) {
        worker?.abandon();
        return done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      }
      if (!worker) return parseHere(request, Buffer.concat(chunks, received).toString('utf8'), done);
      worker.parse().then(
        (value) => done(null, value),
        (failure: Error) => done(failure),
      );
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  });
}

/**
 * One body's worker thread, stopped once it answers or the body is given up: large bodies are rare
 * (bulk imports), and a worker kept idle would keep the garbage of the last one (a copy of a 49 MB
 * body or two) in a heap that no request ever makes it collect.
 */
class BodyWorker {
  private readonly worker: Worker;
  private readonly answer: Promise<unknown>;

  constructor() {
    const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { secureJsonParse: fastifyRequire.resolve('secure-json-parse') } });
    this.answer = new Promise((resolve, reject) => {
      this.worker.once('message', (message: { value?: unknown; invalid?: boolean }) =>
        message.invalid ? reject(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY()) : resolve(message.value),
      );
      // A worker that fails fails its body (a 500).
      this.worker.once('error', reject);
      this.worker.once('exit', () => reject(new Error('the JSON parsing worker stopped before it answered')));
    });
    // Settled by abandon() too, when nobody waits for it any more.
    this.answer.catch(() => {});
  }

  /** A chunk read from the socket often views a larger pooled buffer: its own bytes are copied, then moved. */
  send(chunk: Buffer): void {
    const own = new Uint8Array(chunk);
    this.worker.postMessage(own, [own.buffer]);
  }

  /** The body is complete: its value, or fastify's 400 for invalid JSON. */
  async parse(): Promise<unknown> {
    this.worker.postMessage('end');
    try {
      return await this.answer;
    } finally {
      void this.worker.terminate();
    }
  }

  abandon(): void {
    void this.worker.terminate();
  }
}
