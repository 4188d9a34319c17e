import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/**
 * A real headless Chromium: the binary ships inside @sparticuz/chromium (unpacked to /tmp on first
 * use), driven by puppeteer-core. Not its Lambda argument list: that turns web security off, which
 * would hide exactly what the status page tests check (same-origin fetches, the CSP).
 */
export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: await chromium.executablePath(),
    headless: true,
    // --no-sandbox: tests run as root in containers, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--no-zygote', '--disable-gpu', '--font-render-hinting=none'],
  });
}

/** Runs `steps`; when they fail, saves a screenshot of the page to a temp folder and names it in the error. */
export async function withScreenshotOnFailure<T>(page: Page, name: string, steps: () => Promise<T>): Promise<T> {
  try {
    return await steps();
  } catch (error) {
    const file = join(mkdtempSync(join(tmpdir(), 'meshauth-gui-')), `${name}.png`);
    try {
      await page.screenshot({ path: file as `${string}.png`, fullPage: true });
      (error as Error).message += `\nscreenshot: ${file}`;
    } catch (shotError) {
      (error as Error).message += `\n(no screenshot: ${(shotError as Error).message})`;
    }
    throw error;
  }
}
