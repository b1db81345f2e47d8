import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPanel as openPanelAs } from '../helpers/browser.ts';
import { api, login, registerDevice } from '../helpers/http.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

/** Presets, schedules and history on a camera's page, in headless Chromium against the real server. */

let server: TestServer;
let browser: Browser;
let admin: string;

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  admin = await login(server.url);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const openPanel = () => openPanelAs(browser, server.url, 'admin', ADMIN_PASSWORD);

describe('a camera page', () => {
  test('a preset applied in one tab moves the controls in another', async () => {
    await registerDevice(server.url, admin, 'preset-cam');
    const preset = await api(server.url, 'POST', '/api/presets', {
      token: admin,
      body: { name: 'Night', values: { brightness: 12 }, device_id: 'preset-cam' },
    });
    assert.equal(preset.status, 201);
    const a = await openPanel();
    const b = await openPanel();
    for (const { page } of [a, b]) {
      await page.goto(`${server.url}/#/devices/preset-cam`);
      await page.waitForSelector('[data-key="brightness"]');
      await page.waitForSelector(`select[name="preset"] option[value="${preset.body.id}"]`, { state: 'attached' });
    }
    await a.page.selectOption('select[name="preset"]', preset.body.id);
    await a.page.click('[data-action="apply-preset"]');
    await b.page.waitForFunction(() => (document.querySelector('[data-key="brightness"]') as HTMLInputElement).value === '12');
    // The history on the other tab shows it too, as a preset's doing.
    await b.page.waitForSelector('[data-list="history"] li:has-text("brightness") >> text=via a preset');
    assert.deepEqual([...a.errors, ...b.errors], []);
    await Promise.all([a.context.close(), b.context.close()]);
  });

  test('saving the current settings as a preset, then applying it to several cameras from the dialog', async () => {
    await registerDevice(server.url, admin, 'many-1');
    await registerDevice(server.url, admin, 'many-2');
    await api(server.url, 'PATCH', '/api/devices/many-1/state', { token: admin, body: { contrast: 61 } });
    const { page, context, errors } = await openPanel();
    await page.goto(`${server.url}/#/devices/many-1`);
    await page.waitForSelector('[data-key="contrast"]');
    await page.fill('input[name="preset-name"]', 'Contrasty');
    await page.check('input[name="shared"]');
    await page.click('[data-form="save-preset"] button[type="submit"]');
    await page.waitForSelector('select[name="preset"] option:has-text("Contrasty")', { state: 'attached' });
    await page.click('[data-action="apply-to"]');
    await page.check('dialog input[value="many-2"]');
    await page.click('[data-action="apply-chosen"]');
    await page.waitForSelector('[data-result="many-2"].ok');
    const state = await api(server.url, 'GET', '/api/devices/many-2/state', { token: admin });
    assert.equal(state.body.contrast, 61);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a schedule created on the page shows its next runs', async () => {
    await registerDevice(server.url, admin, 'sched-cam');
    const { page, context, errors } = await openPanel();
    // The camera's details are held back: "the current settings" are not known yet.
    let letDetailsThrough = () => {};
    const detailsHeld = new Promise<void>((resolve) => {
      letDetailsThrough = resolve;
    });
    await page.route('**/api/devices/sched-cam', async (route) => {
      await detailsHeld;
      await route.continue();
    });
    await page.goto(`${server.url}/#/devices/sched-cam`);
    await page.waitForSelector('[data-form="new-schedule"]');
    await page.fill('input[name="schedule-name"]', 'Mornings');
    await page.fill('input[name="cron"]', '0 7 * * *');
    await page.fill('input[name="timezone"]', 'Europe/Berlin');
    await page.click('[data-form="new-schedule"] button[type="submit"]');
    await page.waitForSelector('.notice:has-text("still loading")');
    letDetailsThrough();
    await page.waitForSelector('[data-key="contrast"]');
    await page.click('[data-form="new-schedule"] button[type="submit"]');
    const row = page.locator('[data-list="schedules"] li.schedule', { hasText: 'Mornings' });
    await row.waitFor();
    assert.match(await row.locator('[data-list="next-runs"]').innerText(), /^next: .+ · .+ · .+/);
    const listed = await api(server.url, 'GET', '/api/schedules', { token: admin });
    const schedule = listed.body.schedules.find((s: { name?: string }) => s.name === 'Mornings');
    assert.equal(schedule.cron, '0 7 * * *');
    assert.equal(schedule.timezone, 'Europe/Berlin');
    // Disabled from the page: no runs ahead.
    await row.locator('[data-action="toggle-schedule"]').uncheck();
    await page.waitForSelector('[data-list="schedules"] li.schedule:has-text("Mornings") >> text=no runs ahead');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the history shows a change made over HTTP, with who and how', async () => {
    await registerDevice(server.url, admin, 'hist-cam');
    await api(server.url, 'PATCH', '/api/devices/hist-cam/state', { token: admin, body: { saturation: 40 } });
    const { page, context, errors } = await openPanel();
    await page.goto(`${server.url}/#/devices/hist-cam`);
    await page.waitForSelector('[data-list="history"] li[data-seq]');
    await api(server.url, 'PATCH', '/api/devices/hist-cam/state', { token: admin, body: { saturation: 20 } });
    const line = page.locator('[data-list="history"] li[data-seq]').first();
    await page.waitForFunction(() =>
      document.querySelector('[data-list="history"] li[data-seq]')?.textContent?.includes('40 → 20'),
    );
    assert.match(await line.innerText(), /saturation 40 → 20\s+by admin via the HTTP API/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('admins see every schedule on the Schedules page', async () => {
    await registerDevice(server.url, admin, 'admin-sched');
    await api(server.url, 'POST', '/api/schedules', {
      token: admin,
      body: { name: 'Everywhere', devices: ['admin-sched'], values: { fps: 15 }, cron: '30 6 * * 1-5' },
    });
    const { page, context, errors } = await openPanel();
    await page.click('header nav a:has-text("Schedules")');
    const row = page.locator('[data-list="all-schedules"] li.schedule', { hasText: 'Everywhere' });
    await row.waitFor();
    assert.match(await row.innerText(), /admin-sched/);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
