import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * Headless Chromium from Debian (`apt-get install chromium`; .ci/run installs it), driven by
 * playwright-core, which never downloads a browser of its own.
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      // This machine's network is closed: without these, Chromium keeps trying to reach Google's hosts.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Plain host candidates on loopback: mDNS names (Chromium's default) cannot be resolved here.
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
}

/** Uncaught errors of a page: every test ends by asserting there were none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  return errors;
}

export async function logIn(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(base);
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await page.click('button[type="submit"]');
  await page.waitForSelector('header .link.online');
}

/** A fresh browser profile (its own localStorage) logged in to the panel, with its page errors collected. */
export async function openPanel(
  browser: Browser,
  base: string,
  username: string,
  password: string,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = pageErrors(page);
  await logIn(page, base, username, password);
  return { context, page, errors };
}
