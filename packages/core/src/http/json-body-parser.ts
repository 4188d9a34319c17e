import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';

/** Bodies larger than this are parsed on a worker thread; smaller ones where fastify parses them. */
export const OFF_LOOP_JSON_BYTES = 1 << 20;

// CommonJS, run as the worker's script: the same parser and poisoning rules as fastify's default
// (secure-json-parse, `__proto__` and `constructor.prototype` refused), one body.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const secureJsonParse = require(workerData.secureJsonParse);
parentPort.once('message', ({ body }) => {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  try {
    parentPort.postMessage({ value: secureJsonParse(text, { protoAction: 'error', constructorAction: 'error' }) });
  } catch {
    parentPort.postMessage({ invalid: true });
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
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void) => {
    if (body.length <= OFF_LOOP_JSON_BYTES) return parseHere(request, body.toString('utf8'), done);
    parseOnWorker(body).then(
      (value) => done(null, value),
      (error: Error) => done(error),
    );
  });
}

/**
 * Parses one body on a worker thread of its own, stopped once it answers: large bodies are rare
 * (bulk imports), and a worker kept idle would keep the garbage of the last one (a copy of a 49 MB
 * body or two) in a heap that no request ever makes it collect.
 */
function parseOnWorker(body: Buffer): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { secureJsonParse: fastifyRequire.resolve('secure-json-parse') } });
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      finish();
      void worker.terminate();
    };
    worker.once('message', (message: { value?: unknown; invalid?: boolean }) =>
      settle(() => (message.invalid ? reject(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY()) : resolve(message.value))),
    );
    // A worker that fails fails its body (a 500).
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', () => settle(() => reject(new Error('the JSON parsing worker stopped before it answered'))));
    // Moved, not copied, when the body owns its memory (fastify concatenates a large body afresh).
    const owns = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
    worker.postMessage({ body }, owns ? [body.buffer as ArrayBuffer] : []);
  });
}
