import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import protobuf from 'protobufjs';
import { launchBrowser, logIn, openPanel, pageErrors } from '../helpers/browser.ts';
import { connectDevice, TestSocket } from '../helpers/client.ts';
import { api, login, registerDevice } from '../helpers/http.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

/** The simulator as a camera, watched from the panel over real WebRTC, and the admin pages, in Chromium. */

const proto = await protobuf.load(new URL('../../proto/camera_control.proto', import.meta.url).pathname);
const ControlCommand = proto.lookupType('camera_control.ControlCommand');
const StatusResponse = proto.lookupType('camera_control.StatusResponse');

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

/** The simulator canvas's mean luma (0–255): how bright the picture it streams is. */
function pictureLuma(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector('canvas') as HTMLCanvasElement;
    const { data } = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    for (let i = 0; i < data.length; i += 4)
      sum += 0.299 * (data[i] as number) + 0.587 * (data[i + 1] as number) + 0.114 * (data[i + 2] as number);
    return sum / (data.length / 4);
  });
}

describe('the simulator and the admin pages', () => {
  test("the simulator's video plays in the panel, and a brightness change shows in its picture", async () => {
    const key = await registerDevice(server.url, admin, 'sim-cam');
    const context = await browser.newContext();
    const [sim, panel] = [await context.newPage(), await context.newPage()];
    const simErrors = pageErrors(sim);
    const panelErrors = pageErrors(panel);

    await sim.goto(`${server.url}/simulator?device=sim-cam&key=${encodeURIComponent(key)}`);
    await sim.waitForSelector('header .badge.on');
    assert.doesNotMatch(sim.url(), /key=/, 'the key is taken out of the address bar');

    await logIn(panel, server.url, 'admin', ADMIN_PASSWORD);
    await panel.goto(`${server.url}/#/devices/sim-cam`);
    await panel.waitForSelector('.heading .badge.on');
    await panel.waitForSelector('.device-page .presence :text("simulator: true")');
    await panel.click('[data-action="watch"]');
    await panel.waitForFunction(
      () => {
        const video = document.querySelector('video') as HTMLVideoElement;
        return video.videoWidth === 640 && video.getVideoPlaybackQuality().totalVideoFrames >= 10;
      },
      null,
      { timeout: 20_000 },
    );
    await sim.waitForSelector('.sessions li:has-text("admin")');

    const normal = await pictureLuma(sim);
    await panel.locator('[data-key="brightness"]').fill('100');
    await sim.waitForSelector('tr[data-setting="brightness"] td:text-is("100")');
    const bright = await pictureLuma(sim);
    await panel.locator('[data-key="brightness"]').fill('10');
    await sim.waitForSelector('tr[data-setting="brightness"] td:text-is("10")');
    const dark = await pictureLuma(sim);
    assert.ok(bright > normal && normal > dark, `luma at brightness 100/50/10: ${bright}/${normal}/${dark}`);

    // Frames keep arriving while the settings change.
    const frames = await panel.evaluate(
      () => (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames,
    );
    await panel.waitForFunction(
      (seen: number) =>
        (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames > seen + 5,
      frames,
    );

    await panel.click('[data-action="watch"]');
    await sim.waitForSelector('.sessions li:has-text("nobody is watching")');
    assert.deepEqual([...simErrors, ...panelErrors], []);
    await context.close();
  });

  test('the simulator answers a camera-protocol command by its request_id', async () => {
    const key = await registerDevice(server.url, admin, 'reply-cam');
    const context = await browser.newContext();
    const sim = await context.newPage();
    const errors = pageErrors(sim);
    await sim.goto(`${server.url}/simulator?device=reply-cam&key=${encodeURIComponent(key)}`);
    await sim.waitForSelector('header .badge.on');
    const controller = await TestSocket.open(`${server.wsUrl}/ws/camera/?device=reply-cam&token=${admin}`);
    const update = ControlCommand.fromObject({ command: 0, settings: { brightness: 30 }, requestId: 'sim-upd' });
    controller.ws.send(ControlCommand.encode(update).finish());
    const reply = await controller.nextWhere(
      (m) => Buffer.isBuffer(m) && StatusResponse.decode(m).toJSON().requestId === 'sim-upd',
      'the StatusResponse to sim-upd',
    );
    assert.deepEqual(StatusResponse.decode(reply as Buffer).toJSON().message, 'applied');
    controller.close();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the simulator without a device and key asks for them', async () => {
    const page = await browser.newPage();
    const errors = pageErrors(page);
    await page.goto(`${server.url}/simulator`);
    await page.waitForSelector('input[name="device"]');
    assert.equal(await page.locator('input[name="key"]').count(), 1);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('an admin registers a camera: its key is shown once, with an agent command that works', async () => {
    const { context, page, errors } = await openPanel(browser, server.url, 'admin', ADMIN_PASSWORD);
    await page.click('a[href="#/admin/devices"]');
    await page.fill('input[name="device_id"]', 'porch-cam');
    await page.fill('input[name="name"]', 'Porch');
    await page.click('form.inline-form button[type="submit"]');
    const key = await page.locator('input[name="device-key"]').inputValue();
    const command = await page.locator('input[name="agent-command"]').inputValue();
    assert.equal(command, `npm run agent -- --server ${server.url} --device porch-cam --key ${key}`);
    await page.waitForSelector('tr[data-device-row="porch-cam"]');

    const device = await connectDevice(server.wsUrl, 'porch-cam', key);
    device.close();
    await page.reload();
    await page.waitForSelector('tr[data-device-row="porch-cam"]');
    assert.equal(await page.locator('input[name="device-key"]').count(), 0, 'the key is not shown again');

    await page.click('a[href="#/admin/users"]');
    await page.fill('input[name="new-username"]', 'carol');
    await page.fill('input[name="new-password"]', 'carol-password');
    await page.selectOption('select[name="role"]', 'viewer');
    await page.fill('input[name="devices"]', 'porch-cam');
    await page.click('form.inline-form button[type="submit"]');
    await page.waitForSelector('tr[data-username="carol"]');
    const users = await api(server.url, 'GET', '/api/users', { token: admin });
    assert.deepEqual(
      users.body.users.find((u: { username: string }) => u.username === 'carol'),
      { username: 'carol', role: 'viewer', devices: ['porch-cam'] },
    );
    assert.equal(
      (await api(server.url, 'POST', '/api/login', { body: { username: 'carol', password: 'carol-password' } })).status,
      200,
    );

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('tr[data-username="carol"] button.danger');
    await page.waitForSelector('tr[data-username="carol"]', { state: 'detached' });
    assert.deepEqual(errors, []);
    await context.close();
  });
});
