import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { OFF_LOOP_JSON_BYTES, parseLargeJsonOffLoop } from './json-body-parser.js';

let app: FastifyInstance;
afterEach(() => app.close());

const start = async () => {
  app = Fastify({ bodyLimit: 16 * OFF_LOOP_JSON_BYTES });
  parseLargeJsonOffLoop(app);
  app.post('/echo', async (request) => ({ got: request.body }));
  await app.ready();
};
const post = (payload: string) => app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });

describe('JSON bodies, large ones parsed off the event loop', () => {
  it('parses small and large bodies alike, non-ASCII included', async () => {
    await start();
    const large = { data: 'x'.repeat(OFF_LOOP_JSON_BYTES), name: 'caf\u00e9 \u{1F600}', list: [1, null, true] };
    for (const body of [{ a: 1 }, large, large]) {
      const reply = await post(JSON.stringify(body));
      expect(reply.statusCode).toBe(200);
      expect(reply.json()).toEqual({ got: body });
    }
  });

  it("answers a large body's invalid JSON and prototype poisoning with fastify's own 400s, and keeps parsing after", async () => {
    await start();
    const filler = 'y'.repeat(OFF_LOOP_JSON_BYTES);
    for (const payload of [`{"data": "${filler}"`, `{"data": "${filler}", "__proto__": {"admin": true}}`, `{"data": "${filler}", "constructor": {"prototype": {"admin": true}}}`, '{"small": ']) {
      const reply = await post(payload);
      expect(reply.statusCode, payload.slice(-40)).toBe(400);
      expect(reply.json().code).toMatch(/^FST_ERR_CTP_INVALID_JSON_BODY$|^FST_ERR_CTP_/);
    }
    expect((await post('')).json().code).toBe('FST_ERR_CTP_EMPTY_JSON_BODY');
    expect((await post(JSON.stringify({ data: filler }))).statusCode).toBe(200);
  });

  it('joins a large body read in many chunks, a character split across two of them included', async () => {
    await start();
    const body = { data: '\u00e9'.repeat(OFF_LOOP_JSON_BYTES), tail: '\u{1F600}' };
    const bytes = Buffer.from(JSON.stringify(body));
    // 4,097-byte chunks: odd, so two-byte characters are cut in half at nearly every other boundary.
    const chunks = Array.from({ length: Math.ceil(bytes.length / 4097) }, (_, i) => bytes.subarray(i * 4097, (i + 1) * 4097));
    const reply = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: Readable.from(chunks) });
    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toEqual({ got: body });
  });

  it("refuses a body over the route's limit with fastify's 413, by Content-Length or while reading, and keeps parsing after", async () => {
    await start();
    const over = Buffer.alloc(16 * OFF_LOOP_JSON_BYTES + 1, 0x20);
    const byLength = await post(over.toString());
    expect(byLength.statusCode).toBe(413);
    expect(byLength.json().code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
    // No Content-Length: only counting the bytes read finds it.
    const streamed = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: Readable.from([over.subarray(0, 3 * OFF_LOOP_JSON_BYTES), over.subarray(3 * OFF_LOOP_JSON_BYTES)]) });
    expect(streamed.statusCode).toBe(413);
    expect(streamed.json().code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
    expect((await post(JSON.stringify({ data: 'z'.repeat(2 * OFF_LOOP_JSON_BYTES) }))).statusCode).toBe(200);
  });

  it('refuses a body shorter than its Content-Length, small or large', async () => {
    await start();
    for (const size of [10, 2 * OFF_LOOP_JSON_BYTES]) {
      const payload = JSON.stringify({ data: 'q'.repeat(size) });
      const reply = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json', 'content-length': String(payload.length + 5) }, payload: Readable.from([Buffer.from(payload)]) });
      expect(reply.statusCode, `size ${size}`).toBe(400);
      expect(reply.json().code).toBe('FST_ERR_CTP_INVALID_CONTENT_LENGTH');
    }
  });
});
