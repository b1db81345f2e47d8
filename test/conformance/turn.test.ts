import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { connectDevice, connectViewer } from '../helpers/client.ts';
import { login, registerDevice } from '../helpers/http.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/** TURN REST credentials, checked the way coturn's use-auth-secret checks them. */

const TURN_SECRET = 'turn-shared-secret';
let server: TestServer;

before(async () => {
  server = await startServer({
    env: {
      STUN_URLS: 'stun:turn.example.org:3478',
      TURN_URLS: 'turn:turn.example.org:3478?transport=udp,turn:turn.example.org:3478?transport=tcp',
      TURN_SECRET,
      TURN_TTL_S: '600',
    },
  });
});
after(() => server.stop());

type Ice = { urls: string | string[]; username?: string; credential?: string; credentialType?: string };

function checkTurn(servers: Ice[], label: RegExp): void {
  assert.deepEqual(servers[0], { urls: 'stun:turn.example.org:3478' });
  const turn = servers[1] as Ice;
  assert.deepEqual(turn.urls, ['turn:turn.example.org:3478?transport=udp', 'turn:turn.example.org:3478?transport=tcp']);
  assert.equal(turn.credentialType, 'password');
  const [expiry, name] = (turn.username as string).split(':');
  const now = Date.now() / 1000;
  assert.ok(Math.abs(Number(expiry) - (now + 600)) < 30, `expiry ${expiry} is not now + TURN_TTL_S`);
  assert.match(name as string, label);
  assert.equal(
    turn.credential,
    createHmac('sha1', TURN_SECRET)
      .update(turn.username as string)
      .digest('base64'),
  );
}

test('watch_ready and watch_request carry TURN credentials coturn accepts, labelled per party', async () => {
  const admin = await login(server.url);
  const key = await registerDevice(server.url, admin, 'cam');
  const device = await connectDevice(server.wsUrl, 'cam', key);
  const viewer = await connectViewer(server.wsUrl, admin);
  viewer.envelope('watch_request', { device_id: 'cam' });
  const ready = await viewer.next('watch_ready');
  const short = (ready.payload.session_id as string).slice(0, 8);
  checkTurn(ready.payload.ice_servers as Ice[], new RegExp(`^viewer_admin_${short}$`));
  const request = await device.next('watch_request');
  checkTurn(request.payload.ice_servers as Ice[], new RegExp(`^device_${short}$`));
  viewer.close();
  device.close();
});
