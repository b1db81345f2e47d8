import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, logIn, pageErrors } from '../helpers/browser.ts';
import { TestSocket } from '../helpers/client.ts';
import { ADMIN_PASSWORD, startServer, type TestServer, unsupported } from '../helpers/server.ts';
import { httpsJson, makeTestCertificates, type TestCertificates } from '../helpers/tls.ts';

/** The web panel served over HTTPS (TLS_CERT, TLS_KEY) in headless Chromium: its live socket is wss://. */

const skip = unsupported('tls');

let certs: TestCertificates;
let server: TestServer;
let browser: Browser;
let admin: string;

before(async () => {
  if (skip) return;
  certs = makeTestCertificates();
  [server, browser] = await Promise.all([
    startServer({ env: { TLS_CERT: certs.certFile, TLS_KEY: certs.keyFile } }),
    launchBrowser(),
  ]);
  const res = await httpsJson(`${server.url}/api/login`, 'POST', {
    ca: certs.ca,
    body: { username: 'admin', password: ADMIN_PASSWORD },
  });
  admin = res.body.token;
});
after(async () => {
  await browser?.close();
  await server?.stop();
  certs?.remove();
});

describe('the web panel over HTTPS', { skip }, () => {
  test('logs in, lists the devices and follows their online state over a wss:// socket', async () => {
    const res = await httpsJson(`${server.url}/api/devices`, 'POST', {
      ca: certs.ca,
      token: admin,
      body: { device_id: 'https-cam' },
    });
    assert.equal(res.status, 201);
    // The browser does not know the test CA; the Node clients of this test do trust it, and only it.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const errors = pageErrors(page);
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));

    await logIn(page, server.url, 'admin', ADMIN_PASSWORD);
    assert.match(page.url(), /^https:\/\/127\.0\.0\.1:\d+\//);
    const card = page.locator('[data-device-id="https-cam"]');
    await card.waitFor();
    assert.match(await card.innerText(), /offline/);

    const device = await TestSocket.open(`${server.wsUrl}/ws/device`, { ca: certs.ca });
    device.envelope('hello', { device_id: 'https-cam', key: res.body.key });
    await device.next('hello_ack');
    await page.waitForSelector('[data-device-id="https-cam"].online');

    assert.ok(sockets.length > 0, 'the panel opened no WebSocket');
    for (const url of sockets) assert.ok(url.startsWith(`${server.wsUrl}/ws/`), `a socket to ${url}, not wss://`);
    device.close();
    assert.deepEqual(errors, []);
    await context.close();
  });
});
