import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, logIn, openPanel as openPanelAs, pageErrors } from '../helpers/browser.ts';
import { connectDevice, connectViewer } from '../helpers/client.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

/** The control panel in headless Chromium against the real Node server: list, controls, live sync. */

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

/** The panel in a fresh browser profile, logged in as `username` (the admin by default). */
function openPanel(username = 'admin', password = ADMIN_PASSWORD) {
  return openPanelAs(browser, server.url, username, password);
}

async function deviceState(deviceId: string): Promise<Record<string, unknown>> {
  const res = await api(server.url, 'GET', `/api/devices/${deviceId}/state`, { token: admin });
  assert.equal(res.status, 200);
  return res.body;
}

describe('the web panel', () => {
  test('logging in shows each device with data-device-id, and its online state changes live', async () => {
    const key = await registerDevice(server.url, admin, 'list-cam');
    const { context, page, errors } = await openPanel();
    const card = page.locator('[data-device-id="list-cam"]');
    await card.waitFor();
    assert.match(await card.innerText(), /offline/);
    const device = await connectDevice(server.wsUrl, 'list-cam', key);
    await page.waitForSelector('[data-device-id="list-cam"].online');
    assert.match(await card.innerText(), /online/);
    device.close();
    await page.waitForSelector('[data-device-id="list-cam"]:not(.online)');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a wrong password shows an error and stays on the login form', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = pageErrors(page);
    await page.goto(server.url);
    await page.fill('input[name="username"]', 'admin');
    await page.fill('input[name="password"]', 'not-the-password');
    await page.click('button[type="submit"]');
    await page.waitForSelector('.login .error:not([hidden])');
    assert.match(await page.innerText('.login .error'), /Wrong username or password/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a slider moved in one tab shows in another tab and on the server', async () => {
    await registerDevice(server.url, admin, 'sync-cam');
    const a = await openPanel();
    const b = await openPanel();
    for (const { page } of [a, b]) {
      await page.goto(`${server.url}/#/devices/sync-cam`);
      await page.waitForSelector('[data-key="brightness"]');
    }
    await a.page.locator('[data-key="brightness"]').fill('77');
    await b.page.waitForFunction(() => (document.querySelector('[data-key="brightness"]') as HTMLInputElement).value === '77');
    assert.equal((await deviceState('sync-cam')).brightness, 77);
    assert.deepEqual([...a.errors, ...b.errors], []);
    await Promise.all([a.context.close(), b.context.close()]);
  });

  test('dragging a slider sends a few throttled changes, ending on the value let go at', async () => {
    await registerDevice(server.url, admin, 'drag-cam');
    const { context, page, errors } = await openPanel();
    await page.goto(`${server.url}/#/devices/drag-cam`);
    await page.waitForSelector('[data-key="contrast"]');
    // A subscriber on the server counts the changes the drag makes: one state broadcast each.
    const watcher = await connectViewer(server.wsUrl, admin);
    watcher.envelope('subscribe', { device_ids: ['drag-cam'] });
    await watcher.nextWhere((m) => m.type === 'state' && m.payload.snapshot === true, 'snapshot');
    // 60 input events in one burst, as a fast drag produces, then the release.
    await page.evaluate(() => {
      const slider = document.querySelector('[data-key="contrast"]') as HTMLInputElement;
      for (let value = 1; value <= 60; value++) {
        slider.value = String(value);
        slider.dispatchEvent(new Event('input', { bubbles: true }));
      }
      slider.dispatchEvent(new Event('change', { bubbles: true }));
    });
    let changes = 0;
    for (let last: unknown; last !== 60; changes++) {
      last = (await watcher.nextWhere((m) => m.type === 'state' && m.payload.snapshot === false, 'a change')).payload.state
        .contrast;
    }
    assert.ok(changes <= 3, `60 input events made ${changes} changes`);
    assert.equal((await deviceState('drag-cam')).contrast, 60);
    watcher.close();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('logging out mid-drag shows no error for the value still waiting to go out', async () => {
    await registerDevice(server.url, admin, 'logout-cam');
    const { context, page, errors } = await openPanel();
    // The page's timers run only when the test says so: the throttle's interval passes at will.
    await page.clock.install();
    await page.goto(`${server.url}/#/devices/logout-cam`);
    await page.reload();
    await page.waitForSelector('[data-key="contrast"]');
    // Two values in one burst (the first goes out, the second waits for the throttle's interval), and
    // Log out in the same task, so the second is still waiting whatever the machine's speed.
    await page.evaluate(() => {
      const slider = document.querySelector('[data-key="contrast"]') as HTMLInputElement;
      for (const value of [11, 12]) {
        slider.value = String(value);
        slider.dispatchEvent(new Event('input', { bubbles: true }));
      }
      for (const button of document.querySelectorAll('button')) if (button.textContent === 'Log out') button.click();
    });
    await page.waitForSelector('input[name="username"]');
    // The waiting value goes out now; the viewer it would use is closed, which refuses it at once.
    await page.clock.runFor(1_000);
    assert.equal(await page.evaluate(() => new Promise((resolve) => queueMicrotask(() => resolve('flushed')))), 'flushed');
    // allInnerTexts does not wait for an element: none, and the answer is at once.
    assert.deepEqual(await page.locator('.notice.error').allInnerTexts(), []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a change made over HTTP appears in the panel', async () => {
    await registerDevice(server.url, admin, 'http-cam');
    const { context, page, errors } = await openPanel();
    await page.goto(`${server.url}/#/devices/http-cam`);
    await page.waitForSelector('[data-key="brightness"]');
    const res = await api(server.url, 'PATCH', '/api/devices/http-cam/state', {
      token: admin,
      body: { brightness: 12, 'auto-exposure': false, encoding: 'h265', resolution: '1280x720' },
    });
    assert.equal(res.status, 200);
    // (No helper functions inside page callbacks: tsx would wrap them in a __name the page lacks.)
    const expected = { brightness: '12', 'auto-exposure': false, encoding: 'h265', resolution: '1280x720' };
    await page.waitForFunction((want: Record<string, string | boolean>) => {
      return Object.entries(want).every(([key, value]) => {
        const input = document.querySelector(`[data-key="${key}"]`) as HTMLInputElement;
        return typeof value === 'boolean' ? input.checked === value : input.value === value;
      });
    }, expected);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a refused value shows the reason and the control keeps the server value', async () => {
    await registerDevice(server.url, admin, 'refuse-cam');
    const { context, page, errors } = await openPanel();
    await page.goto(`${server.url}/#/devices/refuse-cam`);
    const box = page.locator('[data-key="resolution"]');
    await box.waitFor();
    await box.fill('huge');
    await box.press('Enter');
    const reason = page.locator('.control:has([data-key="resolution"]) .field-error');
    await reason.waitFor({ state: 'visible' });
    assert.match(await reason.innerText(), /Invalid value/);
    assert.match(await page.locator('.notice.error').first().innerText(), /resolution/);
    assert.equal((await deviceState('refuse-cam')).resolution, '1920x1080');
    // Leaving the box puts the server's value back.
    await page.locator('[data-key="bitrate"]').focus();
    await box.fill('1280x720');
    await box.press('Enter');
    await reason.waitFor({ state: 'hidden' });
    assert.equal((await deviceState('refuse-cam')).resolution, '1280x720');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Record and Snapshot reach the device; a viewer sees the controls but cannot use them', async () => {
    const key = await registerDevice(server.url, admin, 'rec-cam');
    const device = await connectDevice(server.wsUrl, 'rec-cam', key);
    await device.next('settings');
    const { context, page, errors } = await openPanel();
    await page.goto(`${server.url}/#/devices/rec-cam`);
    await page.waitForSelector('[data-key="brightness"]');
    await page.click('button[data-key="record"]');
    const settings = await device.next('settings');
    assert.equal(settings.payload.settings && (settings.payload.settings as Record<string, unknown>).record, 'on');
    await page.waitForSelector('button[data-key="record"].recording');
    await page.click('button[data-key="snap"]');
    const command = await device.next('command');
    assert.equal(command.payload.command, 'snap');
    device.close();
    assert.deepEqual(errors, []);
    await context.close();

    await createUser(server.url, admin, 'watcher', 'viewer');
    const viewer = await openPanel('watcher', 'watcher-password');
    await viewer.page.goto(`${server.url}/#/devices/rec-cam`);
    await viewer.page.waitForSelector('[data-key="brightness"]');
    assert.equal(await viewer.page.locator('[data-key="brightness"]').isDisabled(), true);
    assert.equal(await viewer.page.locator('button[data-key="record"]').isDisabled(), true);
    assert.equal(await viewer.page.locator('[data-action="watch"]').isDisabled(), false);
    assert.equal(await viewer.page.locator('a[href="#/admin/users"]').count(), 0);
    assert.deepEqual(viewer.errors, []);
    await viewer.context.close();
  });

  test('on a phone-sized screen the device page fits the width', async () => {
    await registerDevice(server.url, admin, 'phone-cam');
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const errors = pageErrors(page);
    await logIn(page, server.url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${server.url}/#/devices/phone-cam`);
    await page.waitForSelector('[data-key="brightness"]');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('the web panel with few subscriptions per socket', () => {
  let small: TestServer;
  let token: string;
  let capKey: string;
  before(async () => {
    small = await startServer({ env: { MAX_SUBSCRIPTIONS_PER_SOCKET: '3' } });
    token = await login(small.url);
    capKey = await registerDevice(small.url, token, 'cap-a');
    for (const id of ['cap-b', 'cap-c']) await registerDevice(small.url, token, id);
  });
  after(() => small?.stop());

  test('each view gives its subscriptions back, and a list over the cap shows every camera, the first ones live', async () => {
    const { context, page, errors } = await openPanelAs(browser, small.url, 'admin', ADMIN_PASSWORD);
    // The list holds all three places; a fourth camera's page fits only if the list gave them back.
    await page.waitForSelector('[data-device-id="cap-c"]');
    await registerDevice(small.url, token, 'cap-d');
    await page.goto(`${small.url}/#/devices/cap-d`);
    // Subscribed (a state snapshot numbered) or refused (an error): whichever comes first.
    await page.waitForFunction(
      () =>
        document.querySelector('.device-page .error') ||
        /state #\d+/.test(document.querySelector('.device-page')?.textContent ?? ''),
    );
    assert.equal(await page.locator('.device-page .error').count(), 0, 'cap-d loaded');
    await page.goto(`${small.url}/#/`);
    await page.waitForSelector('[data-device-id="cap-d"]');
    assert.equal(await page.locator('[data-device-id]').count(), 4);
    // The server told the panel its cap (hello_ack): the first three cameras stay live.
    const device = await connectDevice(small.wsUrl, 'cap-a', capKey);
    await page.waitForSelector('[data-device-id="cap-a"].online', { timeout: 5_000 });
    device.close();
    await page.waitForSelector('[data-device-id="cap-a"]:not(.online)', { timeout: 5_000 });
    // allInnerTexts does not wait for an element: none, and the answer is at once.
    assert.deepEqual(await page.locator('.notice.error').allInnerTexts(), []);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
