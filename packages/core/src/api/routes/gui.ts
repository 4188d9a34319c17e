import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { problems, text } from '../openapi/responses.js';

/**
 * The status page's policy: its own script, style and API calls only. No inline script or style
 * (the page builds its DOM with textContent, so a zone error or a token name holding markup stays
 * text even if a bug slipped past that), no framing, no plugins, forms posting nowhere.
 */
export const guiContentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Static files only: nothing in them depends on the caller, so no token or key can end up in them. */
const assets = {
  '/gui': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/gui/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/gui/status.js': { file: 'status.js', type: 'text/javascript; charset=utf-8' },
  '/gui/status.css': { file: 'status.css', type: 'text/css; charset=utf-8' },
} as const;

/** packages/core/gui, beside dist/ and src/: plain files the browser runs as they are, no build step. */
const guiDir = new URL('../../../gui/', import.meta.url);

/**
 * GET /gui on both planes. Anyone may load the page; what it shows comes from the API with the
 * caller's own credentials (localhost rules, or a pasted user token), so it sees what they may.
 */
export function registerGuiRoutes(app: FastifyInstance): void {
  const bodies = new Map<string, Buffer>();
  for (const { file } of Object.values(assets)) if (!bodies.has(file)) bodies.set(file, readFileSync(new URL(file, guiDir)));
  for (const [path, { file, type }] of Object.entries(assets)) {
    const body = bodies.get(file)!;
    const schema = { summary: 'Status page', response: { 200: text(file, type.split(';')[0]), ...problems() } };
    app.get(path, { schema }, async (_request, reply) => secured(reply).type(type).send(body));
  }
}

function secured(reply: FastifyReply): FastifyReply {
  return reply.headers({
    'content-security-policy': guiContentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    // Small files: always revalidated, so an upgraded plane never runs an old script.
    'cache-control': 'no-cache',
  });
}
