import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPanel } from '../helpers/browser.ts';
import { connectDevice } from '../helpers/client.ts';
import { login, registerDevice } from '../helpers/http.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

/**
 * The panel's camera list for a fleet, in headless Chromium: a page at a time, a search, and live
 * status on every page although the socket may follow fewer cameras than there are.
 */

const FLEET = 60;
const ids = Array.from({ length: FLEET }, (_, i) => `yard-${String(i).padStart(2, '0')}`);
let server: TestServer;
let browser: Browser;
const keys: Record<string, string> = {};

before(async () => {
  // Fewer subscriptions than cameras: the list must follow its page, not the first cameras.
  [server, browser] = await Promise.all([startServer({ env: { MAX_SUBSCRIPTIONS_PER_SOCKET: '50' } }), launchBrowser()]);
  const admin = await login(server.url);
  for (const id of ids) keys[id] = await registerDevice(server.url, admin, id);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the camera list pages and searches a fleet, and the page shown is live', async () => {
  const { page, context, errors } = await openPanel(browser, server.url, 'admin', ADMIN_PASSWORD);
  const cards = page.locator('[data-device-id]');
  await page.waitForSelector('[data-device-id="yard-00"]');
  assert.equal(await cards.count(), 48);
  assert.equal(await page.locator('[data-action="prev-page"]').isDisabled(), true);

  await page.click('[data-action="next-page"]');
  await page.waitForSelector('[data-device-id="yard-59"]');
  assert.equal(await cards.count(), FLEET - 48);
  assert.equal(await page.locator('[data-action="next-page"]').isDisabled(), true);
  assert.match(await page.locator('[data-page]').innerText(), /Page 2/);

  // yard-55 is past the socket's 50 subscriptions, but on the page shown: it goes online live.
  const device = await connectDevice(server.wsUrl, 'yard-55', keys['yard-55'] as string);
  await page.waitForSelector('[data-device-id="yard-55"].online');
  device.close();
  await page.waitForSelector('[data-device-id="yard-55"]:not(.online)');

  await page.click('[data-action="prev-page"]');
  await page.waitForSelector('[data-device-id="yard-00"]');
  await page.fill('input[name="q"]', 'YARD-1');
  await page.waitForFunction(() => document.querySelectorAll('[data-device-id]').length === 10);
  const shown = await cards.evaluateAll((els) => els.map((el) => el.getAttribute('data-device-id')).sort());
  assert.deepEqual(shown, ids.slice(10, 20));
  await page.fill('input[name="q"]', 'no such camera');
  await page.waitForSelector('.grid :text("No cameras match")');
  assert.deepEqual(errors, []);
  await context.close();
});
