// `npm run screenshot`: the pictures of the panel in docs/ — a real server, the simulator as the camera,
// the panel watching it — taken in headless Chromium the same way the browser tests run.
import { join } from 'node:path';
import { launchBrowser, logIn } from '../test/helpers/browser.ts';
import { api, login, registerDevice } from '../test/helpers/http.ts';
import { ADMIN_PASSWORD, startServer } from '../test/helpers/server.ts';

const docs = join(import.meta.dirname, '..', 'docs');
const server = await startServer();
const browser = await launchBrowser();
try {
  const admin = await login(server.url);
  await api(server.url, 'POST', '/api/devices', { token: admin, body: { device_id: 'porch-cam', name: 'Porch' } });
  const key = await registerDevice(server.url, admin, 'kitchen-cam');
  await api(server.url, 'PATCH', '/api/devices/kitchen-cam/state', {
    token: admin,
    body: { 'camera-name': 'Kitchen', record: 'on' },
  });

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  const sim = await context.newPage();
  await sim.goto(`${server.url}/simulator?device=kitchen-cam&key=${encodeURIComponent(key)}`);
  await sim.waitForSelector('header .badge.on');
  const panel = await context.newPage();
  await logIn(panel, server.url, 'admin', ADMIN_PASSWORD);
  await panel.goto(`${server.url}/#/devices/kitchen-cam`);
  await panel.click('[data-action="watch"]');
  await panel.waitForFunction(
    () => (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames > 10,
  );
  await panel.locator('[data-key="brightness"]').fill('64');
  await panel.waitForTimeout(500);
  await panel.screenshot({ path: join(docs, 'panel.png') });

  await panel.setViewportSize({ width: 390, height: 844 });
  await panel.goto(`${server.url}/#/`);
  await panel.waitForSelector('[data-device-id="kitchen-cam"].online');
  await panel.screenshot({ path: join(docs, 'panel-phone.png') });
  console.log('wrote docs/panel.png and docs/panel-phone.png');
} finally {
  await browser.close();
  await server.stop();
}
