/// <reference lib="dom" />
// The page functions run inside Chromium: they see the DOM.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { launchBrowser, withScreenshotOnFailure } from './support/browser.js';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken } from './support/http.js';
import { hello, openProbe, startGlobal, startZone, writeZoneToken, zoneOnGlobal, type Global, type ProbeStream } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

/**
 * GET /gui in a real headless Chromium against a real global and a synced zone.
 * MESHAUTH_GUI_SCREENSHOT=docs/status-page.png pnpm -s vitest run test/gui.test.ts
 * regenerates the README's screenshot (the whole global page, 1280 wide).
 */
const dir = tempDir();
let global: Global;
let zone: Daemon;
let browser: Browser;
let probe: ProbeStream | undefined;
const pages: Page[] = [];

/** Runs if the page ever executes injected markup. */
const MARKUP = '<img src=x onerror="window.__xss=(window.__xss||0)+1"><script>window.__xss=1</script>';

beforeAll(async () => {
  global = await startGlobal(join(dir.path, 'global.db'), { MESHAUTH_MULTIZONE_GLOBAL_SYNC_USER_TOKEN_KEYS: 'private' });
  zone = await startZone('zone-a', join(dir.path, 'zone-a.db'), { globalAddress: global.syncAddress, tokenFile: await writeZoneToken(global, dir.path, 'zone-a') });
  // A second zone, so the table is checked row by row with more than one mode.
  await startZone('zone-p', join(dir.path, 'zone-p.db'), { mode: 'private', globalAddress: global.syncAddress, tokenFile: await writeZoneToken(global, dir.path, 'zone-p') });
  for (const name of ['zone-a', 'zone-p']) await waitFor(`${name} online on global`, async () => (await zoneOnGlobal(global, name))?.connected);
  browser = await launchBrowser();
});

afterEach(async () => {
  for (const page of pages.splice(0)) await page.close();
});

afterAll(async () => {
  probe?.close();
  await browser?.close();
  await stopAll();
  dir.remove();
});

/** A page at `url` with a record of what went wrong inside it (script errors, CSP reports). */
async function open(url: string, viewport = { width: 1280, height: 800 }, headers?: Record<string, string>) {
  const page = await browser.newPage();
  pages.push(page);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  await page.setViewport(viewport);
  if (headers) await page.setExtraHTTPHeaders(headers);
  const response = await page.goto(url, { waitUntil: 'domcontentloaded' });
  return { page, response: response!, problems };
}

const cellText = (page: Page, zoneName: string, column: string) =>
  page.$eval(`tr[data-zone="${zoneName}"] td[data-column="${column}"]`, (td) => td.textContent ?? '');

const noteOf = (page: Page, section: string) => page.$eval(`#${section} .note`, (n) => ((n as HTMLElement).hidden ? '' : (n.textContent ?? '')));

describe('status page (GET /gui)', () => {
  it('serves static files with a strict CSP, nosniff and no framing, holding no token or key', async () => {
    for (const path of ['/gui', '/gui/status.js', '/gui/status.css']) {
      const result = await http('GET', `${global.url}${path}`);
      expect(result.status).toBe(200);
      const csp = result.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(result.headers.get('x-content-type-options')).toBe('nosniff');
      expect(result.text).not.toContain(global.adminToken);
      expect(result.text).not.toMatch(/eyJ[A-Za-z0-9_-]{10}|PRIVATE KEY/);
    }
    const html = (await http('GET', `${global.url}/gui`)).text;
    // No inline script or style: all of it comes from the two files the CSP allows.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
  });

  it('global: the zone table matches GET /zones, keys show which one signs, and the admin sees every section', async () => {
    const { page, response, problems } = await open(`${global.url}/gui`);
    await withScreenshotOnFailure(page, 'global', async () => {
      expect(response.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      await page.waitForSelector('tr[data-zone="zone-a"]');
      await page.waitForSelector('#keys tr[data-serial="1"]');
      expect(await cellText(page, 'zone-p', 'mode')).toBe('private');
      const zones = (await http('GET', `${global.url}/zones`, { token: global.adminToken })).json.items as Record<string, any>[];
      const shown = await page.$$eval('#zones tbody tr', (rows) => rows.map((r) => r.getAttribute('data-zone')));
      expect(shown).toEqual(zones.map((z) => z.zone));
      for (const z of zones) {
        expect(await cellText(page, z.zone, 'state')).toContain(z.connected ? 'online' : 'offline');
        expect(await cellText(page, z.zone, 'mode')).toBe(z.mode);
        expect(await cellText(page, z.zone, 'versionsBehind')).toContain(String(z.versionsBehind));
        expect(await cellText(page, z.zone, 'softwareVersion')).toBe(z.softwareVersion);
        expect(await cellText(page, z.zone, 'globalInstance')).toContain(z.globalInstance);
      }
      expect(await page.$eval('#keys tr[data-serial="1"] td[data-column="signs"]', (td) => td.textContent)).toContain('signs new tokens');
      expect(await page.$eval('#plane-summary', (p) => p.textContent)).toContain('store sqlite');
      expect(await page.$eval('#whoami', (p) => p.textContent)).toContain('mesh-system:admin');
      for (const section of ['replicas', 'zones', 'keys', 'revocations', 'changes', 'audit']) expect(await noteOf(page, section)).toBe('');
      // The replicas sharing the store, as GET /replicas lists them; the answering one marked.
      const replicas = (await http('GET', `${global.url}/replicas`, { token: global.adminToken })).json.items as { instance: string }[];
      const instance = (await http('GET', `${global.url}/`)).json.instance as string;
      expect(replicas.map((r) => r.instance)).toEqual([instance]);
      expect(await page.$eval(`#replicas tr[data-replica="${instance}"] td[data-column="instance"]`, (td) => td.textContent)).toBe(`${instance} (this replica)`);
      // The newest admin actions, in GET /audit's order (here: the bootstrap and the zones' streams).
      const audit = (await http('GET', `${global.url}/audit?size=10`, { token: global.adminToken })).json.items as Record<string, any>[];
      expect(audit.map((a) => a.action)).toContain('sync.accept');
      await page.waitForFunction((expected) => JSON.stringify(Array.from(document.querySelectorAll('#audit tbody tr')).map((r) => r.getAttribute('data-action'))) === expected, {}, JSON.stringify(audit.map((a) => a.action)));
      if (process.env.MESHAUTH_GUI_SCREENSHOT) await page.screenshot({ path: process.env.MESHAUTH_GUI_SCREENSHOT as `${string}.png`, fullPage: true });
      expect(problems).toEqual([]);
    });
  });

  it('revocations: the count, the newest first, and a search by jti', async () => {
    const revoked = await http('POST', `${global.url}/tokens/user/revocations`, { token: global.adminToken, body: { jti: 'gui-test-jti' } });
    expect(revoked.status).toBe(201);
    const { page, problems } = await open(`${global.url}/gui`);
    await withScreenshotOnFailure(page, 'revocations', async () => {
      await page.waitForFunction(() => document.querySelector('#revocations td[data-column="jti"]')?.textContent === 'gui-test-jti');
      expect(await page.$eval('#revocations [data-field="count"]', (p) => p.textContent)).toBe('1 revoked token.');
      await page.waitForFunction(() => /revocation gui-test-jti put/.test(document.querySelector('#changes')?.textContent ?? ''));
      await page.type('#jti-input', 'gui-test-jti');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => /gui-test-jti was revoked/.test(document.querySelector('#jti-result')?.textContent ?? ''));
      await page.$eval('#jti-input', (input) => ((input as HTMLInputElement).value = ''));
      await page.type('#jti-input', 'never-revoked');
      await page.click('#jti-form button');
      await page.waitForFunction(() => /never-revoked is not revoked/.test(document.querySelector('#jti-result')?.textContent ?? ''));
      expect(problems).toEqual([]);
    });
  });

  it('audit: an admin action is listed as it happens, its markup shown as text', async () => {
    const { page, problems } = await open(`${global.url}/gui`);
    await withScreenshotOnFailure(page, 'audit', async () => {
      await page.waitForSelector('#audit tbody tr');
      // Revoked while the page is open: the next poll lists it.
      const jti = `gui-audit ${MARKUP}`;
      expect((await http('POST', `${global.url}/tokens/user/revocations`, { token: global.adminToken, body: { jti } })).status).toBe(201);
      const [entry] = (await http('GET', `${global.url}/audit?action=user-token.revoke&size=1`, { token: global.adminToken })).json.items;
      expect(entry.target).toBe(`user token ${jti}`);
      await page.waitForFunction((target) => document.querySelector('#audit tbody tr td[data-column="target"]')?.textContent === target, {}, entry.target);
      const cell = (column: string) => page.$eval(`#audit tbody tr td[data-column="${column}"]`, (td) => td.textContent ?? '');
      expect(await cell('action')).toBe('user-token.revoke');
      expect(await cell('actor')).toBe(entry.actorGroups.length ? `${entry.actor} (${entry.actorGroups.join(', ')})` : entry.actor);
      expect(await cell('result')).toBe('success');
      expect(await cell('instance')).toBe(`${entry.instance} (this replica)`);
      expect(await page.$eval('#audit tbody tr time', (t) => t.getAttribute('datetime'))).toBe(entry.time);
      expect(await page.$$eval('#audit tbody tr', (rows) => rows.length)).toBeLessThanOrEqual(10);

      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
      expect(await page.$$('main img, main script')).toHaveLength(0);
      expect(problems).toEqual([]);
    });
  });

  it('markup in a zone error and in a token name is shown as text and never runs; a non-admin is told what it may not see', async () => {
    // A zone's last error, from a stream global refused a batch on (the zone nacked it with this reason).
    const zoneToken = readFileSync(await writeZoneToken(global, dir.path, 'zone-b'), 'utf8');
    probe = openProbe(global.syncPort, zoneToken);
    probe.send(hello('zone-b', 'SYNC_MODE_PUBLIC'));
    await waitFor('global answers the probe', () => probe!.received.length > 0);
    probe.send({ nack: { version: 1, reason: MARKUP } });
    await waitFor('zone-b error on global', async () => (await zoneOnGlobal(global, 'zone-b'))?.lastError?.includes('<img'));

    const name = `eve ${MARKUP}`;
    const userToken = await issueUserToken(global.url, global.adminToken, name, ['team-a']);
    const { page, problems } = await open(`${global.url}/gui`);
    let polls = 0;
    page.on('request', (request) => void (new URL(request.url()).pathname === '/who-am-i' && polls++));
    await withScreenshotOnFailure(page, 'markup', async () => {
      await page.waitForFunction(() => (document.querySelector('tr[data-zone="zone-b"] td[data-column="lastError"]')?.textContent ?? '').includes('<img src=x'));
      expect(await cellText(page, 'zone-b', 'lastError')).toContain(MARKUP);

      await page.type('#token-input', userToken);
      await page.keyboard.press('Enter');
      await page.waitForFunction((expected) => document.querySelector('#whoami [data-field="name"]')?.textContent === expected, {}, name);
      expect(await page.$eval('#whoami', (p) => p.textContent)).toContain('with the pasted user token');
      expect(await page.evaluate(() => sessionStorage.getItem('meshauth.userToken'))).toBe(userToken);
      // The API lets any authenticated user list zones, but not keys, revocations or changes.
      await page.waitForFunction(() => /Your user may not see the signing keys/.test(document.querySelector('#keys .note')?.textContent ?? ''));
      expect(await noteOf(page, 'revocations')).toContain('Your user may not see the revocations');
      expect(await noteOf(page, 'changes')).toContain('Your user may not see the recent changes');
      await page.waitForFunction(() => /Your user may not see the recent admin actions/.test(document.querySelector('#audit .note')?.textContent ?? ''));
      expect(await page.$$('#audit tbody tr')).toHaveLength(0);
      // Each refusal is audited, so the page asks once per token, not every poll: after two more
      // polls the log holds one refusal of this user per audited read.
      const seen = polls;
      await waitFor('two more polls', () => polls >= seen + 2);
      const refusals = (await http('GET', `${global.url}/audit?action=access.refuse`, { token: global.adminToken })).json.items as Record<string, any>[];
      expect(refusals.filter((a) => a.actor === name).map((a) => a.target).sort()).toEqual(['GET /audit', 'GET /tokens/user/signing-keys']);
      expect(await noteOf(page, 'zones')).toBe('');
      expect(await page.$$('#keys tbody tr')).toHaveLength(0);

      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
      expect(await page.$$('main img, main script')).toHaveLength(0);

      await page.click('#token-forget');
      await page.waitForFunction(() => document.querySelector('#whoami [data-field="name"]')?.textContent === 'mesh-system:admin');
      expect(await page.evaluate(() => sessionStorage.getItem('meshauth.userToken'))).toBeNull();
      expect(problems).toEqual([]);
    });
  });

  it('asks for a token where localhost rules do not apply (here: a proxied request)', async () => {
    const { page } = await open(`${global.url}/gui`, undefined, { 'x-forwarded-for': '203.0.113.7' });
    await withScreenshotOnFailure(page, 'anonymous', async () => {
      await page.waitForFunction(() => /Sign in with a user token to see the zones/.test(document.querySelector('#zones .note')?.textContent ?? ''));
      expect(await page.$eval('#whoami', (p) => p.textContent)).toContain('not signed in');
      await page.type('#token-input', global.adminToken);
      await page.keyboard.press('Enter');
      await page.waitForSelector('tr[data-zone="zone-a"]');
    });
  });

  it('zone: its sync status and its mirrored keys and revocations', async () => {
    const { page, response, problems } = await open(`${zone.url}/gui`);
    await withScreenshotOnFailure(page, 'zone', async () => {
      expect(response.headers()['content-security-policy']).toContain("default-src 'self'");
      await page.waitForFunction(() => /connected/.test(document.querySelector('#sync [data-field="state"]')?.textContent ?? ''));
      const status = (await http('GET', `${zone.url}/sync/status`)).json;
      const field = (name: string) => page.$eval(`#sync [data-field="${name}"]`, (dd) => dd.textContent ?? '');
      expect(await field('globalAddress')).toBe(status.globalAddress);
      expect(await field('instance')).toBe(status.instance);
      expect(await field('leader')).toContain('yes');
      expect(await field('downPolicy')).toBe('keep');
      expect(await field('stats')).toMatch(/\d+ snapshots, \d+ deltas, \d+ refused/);
      expect(await page.$eval('#plane-title', (s) => s.textContent)).toBe('zone zone-a');
      expect(await page.$eval('#zones', (s) => (s as HTMLElement).hidden)).toBe(true);
      await page.waitForSelector('#keys tr[data-serial="1"]');
      expect(await page.$eval('#keys tr[data-serial="1"] td[data-column="origin"]', (td) => td.textContent)).toBe('synced from global');
      await page.waitForFunction(() => Array.from(document.querySelectorAll('#revocations td[data-column="jti"]')).some((td) => td.textContent === 'gui-test-jti'));
      // The zone's own audit log: its bootstrap, and here a refusal by a user token global issued.
      const jane = await issueUserToken(global.url, global.adminToken, 'jane', ['team-a']);
      expect((await http('GET', `${zone.url}/tokens/user/signing-keys`, { token: jane })).status).toBe(403);
      const [refusal] = (await http('GET', `${zone.url}/audit?size=1`)).json.items;
      expect(refusal).toMatchObject({ actor: 'jane', action: 'access.refuse', target: 'GET /tokens/user/signing-keys', plane: 'zone' });
      await page.waitForFunction((expected) => document.querySelector('#audit tbody tr td[data-column="actor"]')?.textContent === expected, {}, `jane (${refusal.actorGroups.join(', ')})`);
      expect(await page.$eval('#audit tbody tr td[data-column="result"]', (td) => td.textContent)).toBe(`○ ${refusal.result}`);
      expect(await page.$eval('#audit tbody tr td[data-column="instance"]', (td) => td.textContent)).toBe(`${refusal.instance} (this replica)`);
      expect(problems).toEqual([]);
    });
  });

  it('phone width: no sideways scrolling, every cell labelled; keyboard reaches the forms', async () => {
    const { page } = await open(`${global.url}/gui`, { width: 390, height: 844 });
    await withScreenshotOnFailure(page, 'phone', async () => {
      await page.waitForSelector('tr[data-zone="zone-a"]');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      const label = await page.$eval('tr[data-zone="zone-a"] td[data-column="state"]', (td) => getComputedStyle(td, '::before').content);
      expect(label).toContain('State');
      const reached = new Set<string>();
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press('Tab');
        reached.add(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || ''));
      }
      expect([...reached]).toEqual(expect.arrayContaining(['token-input', 'jti-input']));
    });
  });

  it('a killed zone turns offline on the open page, without a reload', async () => {
    const { page, problems } = await open(`${global.url}/gui`);
    await withScreenshotOnFailure(page, 'offline', async () => {
      await page.waitForFunction(() => /online/.test(document.querySelector('tr[data-zone="zone-a"] td[data-column="state"]')?.textContent ?? ''));
      await page.evaluate(() => ((window as unknown as { __sameDocument?: boolean }).__sameDocument = true));
      await zone.kill();
      await page.waitForFunction(() => /offline/.test(document.querySelector('tr[data-zone="zone-a"] td[data-column="state"]')?.textContent ?? ''), { timeout: 20_000 });
      expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
      expect((await zoneOnGlobal(global, 'zone-a'))?.connected).toBe(false);
      expect(problems).toEqual([]);
    });
  });
});
