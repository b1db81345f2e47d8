import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectDevice, connectViewer, TestSocket } from '../helpers/client.ts';
import { api, login, registerDevice } from '../helpers/http.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/**
 * Input that once slipped through: bodies that are not objects, keys named like Object.prototype's
 * (valibot's record drops them, so `{"__proto__": 5}` passed as an empty change), and strings that are
 * not well-formed Unicode (a lone surrogate has no UTF-8 form: the protobuf channel then sent bytes
 * strict decoders refuse). Every path refuses them the same way.
 */

let server: TestServer;
let admin: string;
let key: string;

before(async () => {
  server = await startServer();
  admin = await login(server.url);
  key = await registerDevice(server.url, admin, 'cam');
});
after(() => server.stop());

const patchRaw = (body: string) =>
  api(server.url, 'PATCH', '/api/devices/cam/state', { token: admin, body, headers: { 'content-type': 'application/json' } });

test('PATCH refuses prototype-named keys as unknown, and bodies that are not objects', async () => {
  for (const name of ['__proto__', 'constructor', 'prototype', 'toString']) {
    const res = await patchRaw(`{"${name}": 5}`);
    assert.deepEqual([res.status, res.body], [400, { error: 'Unknown key', key: name }], name);
  }
  for (const body of ['[]', '[{"fps": 10}]', '5', '"fps"', 'null']) {
    const res = await patchRaw(body);
    assert.equal(res.status, 400, body);
    assert.equal(res.body.error, 'Invalid request', body);
  }
  // Nothing changed meanwhile.
  assert.equal((await api(server.url, 'GET', '/api/devices/cam/state', { token: admin })).headers.get('x-state-seq'), '0');
});

test('state_set, /api/v1 and a device report refuse them with the same error', async () => {
  const viewer = await connectViewer(server.wsUrl, admin);
  viewer.send('{"type":"state_set","request_id":"s1","payload":{"device_id":"cam","changes":{"__proto__":5}}}');
  const refused = await viewer.next('error');
  assert.deepEqual(
    [refused.request_id, refused.payload.code, refused.payload.message, refused.payload.key],
    ['s1', 'unknown_key', 'Unknown key', '__proto__'],
  );
  viewer.send('{"type":"state_set","request_id":"s2","payload":{"device_id":"cam","changes":[]}}');
  const notObject = await viewer.next('error');
  assert.equal(notObject.payload.code, 'bad_message');
  assert.match(notObject.payload.message as string, /changes must be an object/);
  viewer.close();

  const v1 = await TestSocket.open(`${server.wsUrl}/api/v1?device=cam`);
  v1.send({ token: admin });
  await v1.nextWhere((m) => m.authenticated === true, 'the auth answer');
  v1.send('{"constructor": 1}');
  assert.deepEqual(await v1.nextWhere((m) => 'error' in m, 'an error'), { error: 'Unknown key', key: 'constructor' });
  v1.close();

  const device = await connectDevice(server.wsUrl, 'cam', key);
  device.send('{"type":"status","request_id":"r1","payload":{"success":true,"state":{"__proto__":{"fps":5}}}}');
  const report = await device.next('error');
  assert.deepEqual([report.payload.code, report.payload.key], ['unknown_key', '__proto__']);
  device.close();
});

test('strings that are not well-formed Unicode are refused in every string key, reports and presence', async () => {
  const lone = 'Cam\ud800';
  const refused = await api(server.url, 'PATCH', '/api/devices/cam/state', { token: admin, body: { 'camera-name': lone } });
  assert.equal(refused.status, 400);
  assert.deepEqual([refused.body.error, refused.body.key], ['Invalid value', 'camera-name']);
  assert.match(refused.body.message, /well-formed Unicode/);
  const pip = await api(server.url, 'PATCH', '/api/devices/cam/state', { token: admin, body: { 'pip-mode': '\udc00x' } });
  assert.deepEqual([pip.status, pip.body.key], [400, 'pip-mode']);
  // A pair of surrogates is one character, and fine.
  const emoji = await api(server.url, 'PATCH', '/api/devices/cam/state', { token: admin, body: { 'camera-name': 'Cam 📷' } });
  assert.deepEqual([emoji.status, emoji.body], [200, { 'camera-name': 'Cam 📷' }]);

  const device = await connectDevice(server.wsUrl, 'cam', key);
  device.envelope('status', { success: true, state: { 'camera-name': lone } }, 'r2');
  const report = await device.next('error');
  assert.deepEqual([report.payload.code, report.payload.key], ['invalid_value', 'camera-name']);
  device.envelope('device_presence', { note: lone });
  assert.match((await device.next('error')).payload.message as string, /well-formed Unicode/);
  device.envelope('status', { success: false, message: `failed ${lone}` }, 'r3');
  assert.match((await device.next('error')).payload.message as string, /payload\.message: message must be well-formed Unicode/);
  device.close();
  assert.equal((await api(server.url, 'GET', '/api/devices/cam/state', { token: admin })).body['camera-name'], 'Cam 📷');
});
