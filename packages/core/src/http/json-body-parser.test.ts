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
});
