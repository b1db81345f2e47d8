import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectDevice, connectViewer, TestSocket } from '../helpers/client.ts';
import { eventually } from '../helpers/eventually.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/** Seed 003's envelope protocol on /ws/device and /ws/viewer: hello, heartbeat, watch sessions, relay. */

let server: TestServer;
let admin: string;
const keys: Record<string, string> = {};

before(async () => {
  server = await startServer({ env: { STUN_URLS: 'stun:stun.example.org:3478' } });
  admin = await login(server.url);
  for (const id of ['cam-a', 'cam-b', 'cam-c', 'cam-d', 'cam-e', 'cam-f', 'cam-g', 'cam-h']) {
    keys[id] = await registerDevice(server.url, admin, id);
  }
});
after(() => server.stop());

/** Opens a watch session between a viewer and a device and returns the session id. */
async function watch(viewer: TestSocket, device: TestSocket, deviceId: string, requestId = 'w1'): Promise<string> {
  viewer.envelope('watch_request', { device_id: deviceId }, requestId);
  const ready = await viewer.next('watch_ready');
  assert.equal(ready.request_id, requestId);
  const request = await device.next('watch_request');
  assert.equal(request.payload.session_id, ready.payload.session_id);
  return ready.payload.session_id as string;
}

describe('hello', () => {
  test('a registered device with its key gets hello_ack with device_id, server_time and ts', async () => {
    const device = await TestSocket.open(`${server.wsUrl}/ws/device`);
    device.envelope('hello', { device_id: 'cam-a', key: keys['cam-a'] }, 'h1');
    const ack = await device.next();
    assert.equal(ack.type, 'hello_ack');
    assert.equal(ack.request_id, 'h1');
    assert.equal(ack.payload.device_id, 'cam-a');
    assert.ok(!Number.isNaN(Date.parse(ack.ts)));
    assert.ok(!Number.isNaN(Date.parse(ack.payload.server_time as string)));
    device.close();
  });

  test('an unknown device is closed with 1008', async () => {
    const device = await TestSocket.open(`${server.wsUrl}/ws/device`);
    device.envelope('hello', { device_id: 'no-such-cam', key: 'x' });
    const error = await device.next('error');
    assert.equal(error.payload.message, 'Device not found');
    assert.equal((await device.closed).code, 1008);
  });

  test('a wrong device key is closed with 1008', async () => {
    const device = await TestSocket.open(`${server.wsUrl}/ws/device`);
    device.envelope('hello', { device_id: 'cam-a', key: keys['cam-b'] });
    assert.equal((await device.closed).code, 1008);
  });

  test('a user token is never accepted as a device key', async () => {
    const device = await TestSocket.open(`${server.wsUrl}/ws/device`);
    device.envelope('hello', { device_id: 'cam-a', key: admin });
    assert.equal((await device.closed).code, 1008);
  });

  test('a device key is never accepted as a viewer token', async () => {
    const viewer = await TestSocket.open(`${server.wsUrl}/ws/viewer`);
    viewer.envelope('hello', { token: keys['cam-a'] });
    assert.equal((await viewer.next('error')).payload.message, 'Invalid token');
    assert.equal((await viewer.closed).code, 1008);
  });

  test('a viewer with a valid token gets hello_ack with user_id', async () => {
    const viewer = await TestSocket.open(`${server.wsUrl}/ws/viewer`);
    viewer.envelope('hello', { token: admin }, 'vh');
    const ack = await viewer.next('hello_ack');
    assert.equal(ack.request_id, 'vh');
    assert.equal(ack.payload.user_id, 'admin');
    // The socket's limits, at their defaults here (MAX_SUBSCRIPTIONS_PER_SOCKET, MAX_WATCHES_PER_SOCKET).
    assert.equal(ack.payload.max_subscriptions, 256);
    assert.equal(ack.payload.max_watches, 16);
    viewer.close();
  });

  test('any other message before hello_ack gets "Unauthorized" and close 1008', async () => {
    for (const path of ['/ws/device', '/ws/viewer']) {
      const socket = await TestSocket.open(`${server.wsUrl}${path}`);
      socket.envelope('watch_request', { device_id: 'cam-a' }, 'early');
      const error = await socket.next('error');
      assert.equal(error.payload.message, 'Unauthorized');
      assert.equal(error.request_id, 'early');
      assert.equal((await socket.closed).code, 1008);
    }
  });

  test('a newer connection for the same device replaces the older one with 4000', async () => {
    const first = await connectDevice(server.wsUrl, 'cam-b', keys['cam-b'] as string);
    const second = await connectDevice(server.wsUrl, 'cam-b', keys['cam-b'] as string);
    assert.equal((await first.closed).code, 4000);
    second.envelope('heartbeat', {}, 'still-here');
    assert.equal((await second.next('heartbeat_ack')).request_id, 'still-here');
    second.close();
  });
});

describe('heartbeat and bad input', () => {
  test('heartbeat gets heartbeat_ack echoing request_id', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-c', keys['cam-c'] as string);
    device.envelope('heartbeat', {}, 'hb-1');
    const ack = await device.next('heartbeat_ack');
    assert.equal(ack.request_id, 'hb-1');
    assert.deepEqual(ack.payload, {});
    device.close();
  });

  test('malformed JSON, unknown types and invalid payloads get an error and the socket stays usable', async () => {
    const viewer = await connectViewer(server.wsUrl, admin);
    viewer.send('{not json');
    assert.match((await viewer.next('error')).payload.message as string, /Malformed JSON/);
    viewer.envelope('dance', {}, 'r1');
    const unknown = await viewer.next('error');
    assert.equal(unknown.request_id, 'r1');
    assert.match(unknown.payload.message as string, /Unknown message type "dance"/);
    viewer.envelope('watch_request', { device_id: 'bad id with spaces' }, 'r2');
    const invalid = await viewer.next('error');
    assert.equal(invalid.request_id, 'r2');
    assert.match(invalid.payload.message as string, /payload\.device_id/);
    viewer.send({ type: 'heartbeat', payload: 'nope' });
    assert.match((await viewer.next('error')).payload.message as string, /payload must be an object/);
    viewer.send([1, 2]);
    assert.equal((await viewer.next('error')).payload.code, 'bad_message');
    viewer.envelope('device_presence', { battery: 1 }, 'r3');
    assert.match((await viewer.next('error')).payload.message as string, /not accepted on \/ws\/viewer/);
    viewer.envelope('heartbeat', {}, 'alive');
    assert.equal((await viewer.next('heartbeat_ack')).request_id, 'alive');
    viewer.close();
  });

  test('a binary frame on the envelope endpoints is refused with an error', async () => {
    const viewer = await connectViewer(server.wsUrl, admin);
    viewer.ws.send(Buffer.from([1, 2, 3]));
    assert.match((await viewer.next('error')).payload.message as string, /Binary frames/);
    viewer.close();
  });
});

describe('watch sessions', () => {
  test('watch_request gives the viewer watch_ready and the device watch_request with ice_servers and user_id', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-d', keys['cam-d'] as string);
    const viewer = await connectViewer(server.wsUrl, admin);
    viewer.envelope('watch_request', { device_id: 'cam-d' }, 'req-001');
    const ready = await viewer.next('watch_ready');
    assert.equal(ready.request_id, 'req-001');
    assert.match(ready.payload.session_id as string, /^[0-9a-f-]{36}$/);
    assert.deepEqual(ready.payload.ice_servers, [{ urls: 'stun:stun.example.org:3478' }]);
    const request = await device.next('watch_request');
    assert.equal(request.payload.session_id, ready.payload.session_id);
    assert.equal(request.payload.user_id, 'admin');
    assert.deepEqual(request.payload.ice_servers, [{ urls: 'stun:stun.example.org:3478' }]);
    viewer.close();
    device.close();
  });

  test('offer, answer and ICE are relayed between the two parties of a session', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-d', keys['cam-d'] as string);
    const viewer = await connectViewer(server.wsUrl, admin);
    const session = await watch(viewer, device, 'cam-d');
    const offer = { type: 'offer', sdp: 'v=0\r\no=- 123456789 2 IN IP4 127.0.0.1\r\n' };
    viewer.envelope('signal_offer', { session_id: session, sdp: offer });
    const gotOffer = await device.next('signal_offer');
    assert.deepEqual(gotOffer.payload, { session_id: session, sdp: offer });
    assert.ok(gotOffer.ts);
    const answer = { type: 'answer', sdp: 'v=0\r\no=- 987654321 2 IN IP4 127.0.0.1\r\n' };
    device.envelope('signal_answer', { session_id: session, sdp: answer });
    assert.deepEqual((await viewer.next('signal_answer')).payload, { session_id: session, sdp: answer });
    const candidate = { candidate: 'candidate:1 1 UDP 2130706431 192.168.1.100 54321 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    device.envelope('signal_ice', { session_id: session, candidate });
    assert.deepEqual((await viewer.next('signal_ice')).payload, { session_id: session, candidate });
    viewer.envelope('signal_ice', { session_id: session, candidate: null });
    assert.deepEqual((await device.next('signal_ice')).payload, { session_id: session, candidate: null });
    viewer.close();
    device.close();
  });

  test('400 back-to-back ICE messages arrive complete and in order', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-d', keys['cam-d'] as string);
    const viewer = await connectViewer(server.wsUrl, admin);
    const session = await watch(viewer, device, 'cam-d');
    for (let i = 0; i < 400; i++) {
      viewer.envelope('signal_ice', {
        session_id: session,
        candidate: { candidate: `candidate:${i}`, sdpMid: '0', sdpMLineIndex: 0 },
      });
    }
    for (let i = 0; i < 400; i++) {
      const ice = await device.next('signal_ice');
      assert.equal((ice.payload.candidate as { candidate: string }).candidate, `candidate:${i}`);
    }
    viewer.close();
    device.close();
  });

  test('an invalid signal gets an error that names the field, and is not relayed; unknown fields are dropped', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-d', keys['cam-d'] as string);
    const viewer = await connectViewer(server.wsUrl, admin);
    const session = await watch(viewer, device, 'cam-d');
    const refused = async (type: string, payload: unknown, field: RegExp) => {
      viewer.send({ type, request_id: 'bad', payload });
      const error = await viewer.next('error');
      assert.deepEqual([error.request_id, error.payload.code], ['bad', 'bad_message']);
      assert.match(error.payload.message as string, field);
    };
    await refused('signal_ice', { session_id: 7, candidate: null }, /^Invalid signal_ice: payload\.session_id: /);
    await refused('signal_ice', { session_id: session, candidate: { sdpMid: '0' } }, /payload\.candidate\.candidate/);
    await refused('signal_offer', { session_id: session, sdp: { type: 'bogus' } }, /payload\.sdp\.type: sdp\.type must be/);
    await refused('signal_answer', undefined, /^Invalid signal_answer: payload\.session_id/);
    viewer.send({ type: 'signal_ice', request_id: 7, payload: { session_id: session, candidate: null } });
    assert.match((await viewer.next('error')).payload.message as string, /^Invalid message: message\.request_id/);
    // Valid, with fields no schema names: relayed without them.
    viewer.send({ type: 'signal_ice', extra: 1, payload: { session_id: session, candidate: null, secret: 'x' } });
    const relayed = await device.next('signal_ice');
    assert.deepEqual(relayed.payload, { session_id: session, candidate: null });
    assert.equal('extra' in relayed, false);
    viewer.close();
    device.close();
  });

  test('signals for a session the sender is not part of get "Session not found"', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-d', keys['cam-d'] as string);
    const viewer = await connectViewer(server.wsUrl, admin);
    const outsider = await connectViewer(server.wsUrl, admin);
    const session = await watch(viewer, device, 'cam-d');
    outsider.envelope('signal_offer', { session_id: session, sdp: { type: 'offer', sdp: 'x' } }, 'o1');
    const error = await outsider.next('error');
    assert.equal(error.payload.message, 'Session not found');
    assert.equal(error.request_id, 'o1');
    device.envelope('signal_ice', { session_id: 'not-a-session', candidate: null });
    assert.equal((await device.next('error')).payload.message, 'Session not found');
    outsider.close();
    viewer.close();
    device.close();
  });

  test('two viewers watching one device each get their own session and only their own signals', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-e', keys['cam-e'] as string);
    const v1 = await connectViewer(server.wsUrl, admin);
    const v2 = await connectViewer(server.wsUrl, admin);
    const s1 = await watch(v1, device, 'cam-e');
    const s2 = await watch(v2, device, 'cam-e');
    assert.notEqual(s1, s2);
    device.envelope('signal_answer', { session_id: s2, sdp: { type: 'answer', sdp: 'for-v2' } });
    device.envelope('signal_answer', { session_id: s1, sdp: { type: 'answer', sdp: 'for-v1' } });
    assert.equal(((await v1.next('signal_answer')).payload.sdp as { sdp: string }).sdp, 'for-v1');
    assert.equal(((await v2.next('signal_answer')).payload.sdp as { sdp: string }).sdp, 'for-v2');
    assert.deepEqual(
      v1.drain().filter((m) => m.type.startsWith('signal_')),
      [],
    );
    v1.close();
    v2.close();
    device.close();
  });

  test('after a session has relayed both ways, the device and the viewer can each start another', async () => {
    // Each side keeps the other party's stub beside the session, in its socket's state. On Workers that
    // state is serialised into the socket's attachment whenever it changes, and a stub in it broke the
    // next watch of either side.
    const first = await registerDevice(server.url, admin, 'cam-relayed');
    const second = await registerDevice(server.url, admin, 'cam-relayed-too');
    const device = await connectDevice(server.wsUrl, 'cam-relayed', first);
    const otherDevice = await connectDevice(server.wsUrl, 'cam-relayed-too', second);
    const viewer = await connectViewer(server.wsUrl, admin);
    const session = await watch(viewer, device, 'cam-relayed');
    device.envelope('signal_answer', { session_id: session, sdp: { type: 'answer', sdp: 'v=0' } });
    await viewer.next('signal_answer');
    viewer.envelope('signal_ice', { session_id: session, candidate: null });
    await device.next('signal_ice');

    const otherViewer = await connectViewer(server.wsUrl, admin);
    await watch(otherViewer, device, 'cam-relayed', 'w2');
    await watch(viewer, otherDevice, 'cam-relayed-too', 'w3');
    device.envelope('signal_ice', { session_id: session, candidate: null });
    assert.equal((await viewer.next('signal_ice')).payload.session_id, session, 'the first session still relays');
    viewer.envelope('signal_ice', { session_id: session, candidate: null });
    assert.equal((await device.next('signal_ice')).payload.session_id, session);
    for (const socket of [device, otherDevice, viewer, otherViewer]) socket.close();
  });

  test('one viewer socket watches two devices at once', async () => {
    const d1 = await connectDevice(server.wsUrl, 'cam-f', keys['cam-f'] as string);
    const d2 = await connectDevice(server.wsUrl, 'cam-g', keys['cam-g'] as string);
    const viewer = await connectViewer(server.wsUrl, admin);
    const s1 = await watch(viewer, d1, 'cam-f', 'a');
    const s2 = await watch(viewer, d2, 'cam-g', 'b');
    viewer.envelope('signal_offer', { session_id: s2, sdp: { type: 'offer', sdp: 'to-g' } });
    viewer.envelope('signal_offer', { session_id: s1, sdp: { type: 'offer', sdp: 'to-f' } });
    assert.equal(((await d1.next('signal_offer')).payload.sdp as { sdp: string }).sdp, 'to-f');
    assert.equal(((await d2.next('signal_offer')).payload.sdp as { sdp: string }).sdp, 'to-g');
    d2.envelope('signal_answer', { session_id: s2, sdp: { type: 'answer', sdp: 'from-g' } });
    const answer = await viewer.next('signal_answer');
    assert.equal(answer.payload.session_id, s2);
    viewer.close();
    d1.close();
    d2.close();
  });

  test('end_watch ends the session: the device gets watch_ended "user_ended" and the viewer a confirmation', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-d', keys['cam-d'] as string);
    const viewer = await connectViewer(server.wsUrl, admin);
    const session = await watch(viewer, device, 'cam-d');
    viewer.envelope('end_watch', { session_id: session }, 'end-1');
    const confirmed = await viewer.next('watch_ended');
    assert.equal(confirmed.request_id, 'end-1');
    assert.equal(confirmed.payload.reason, 'user_ended');
    const ended = await device.next('watch_ended');
    assert.deepEqual(ended.payload, { session_id: session, reason: 'user_ended' });
    device.envelope('signal_ice', { session_id: session, candidate: null });
    assert.equal((await device.next('error')).payload.message, 'Session not found');
    viewer.close();
    device.close();
  });

  test('a device that ends a session (it cannot serve it) gives the viewer watch_ended "error"', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-d', keys['cam-d'] as string);
    const viewer = await connectViewer(server.wsUrl, admin);
    const session = await watch(viewer, device, 'cam-d');
    device.envelope('end_watch', { session_id: session }, 'busy');
    const confirmed = await device.next('watch_ended');
    assert.equal(confirmed.request_id, 'busy');
    assert.equal(confirmed.payload.reason, 'error');
    const ended = await viewer.next('watch_ended');
    assert.deepEqual(ended.payload, { session_id: session, reason: 'error', device_id: 'cam-d' });
    viewer.envelope('signal_offer', { session_id: session, sdp: { type: 'offer', sdp: 'late' } });
    assert.equal((await viewer.next('error')).payload.message, 'Session not found');
    viewer.close();
    device.close();
  });

  test("a device's reason for ending a session reaches the viewer as watch_ended's message", async () => {
    const device = await connectDevice(server.wsUrl, 'cam-d', keys['cam-d'] as string);
    const viewer = await connectViewer(server.wsUrl, admin);
    const session = await watch(viewer, device, 'cam-d');
    const message = 'no video: the camera stream sends nothing yet';
    device.envelope('end_watch', { session_id: session, message });
    assert.equal((await device.next('watch_ended')).payload.reason, 'error');
    const ended = await viewer.next('watch_ended');
    assert.deepEqual(ended.payload, { session_id: session, reason: 'error', device_id: 'cam-d', message });

    const other = await watch(viewer, device, 'cam-d');
    device.envelope('end_watch', { session_id: other, message: 'x'.repeat(513) }, 'long');
    const refused = await device.next('error');
    assert.equal(refused.request_id, 'long');
    assert.match(refused.payload.message as string, /payload\.message: message is too long/);
    viewer.close();
    device.close();
  });

  test('a viewer that disconnects ends its sessions with "viewer_disconnected"', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-d', keys['cam-d'] as string);
    const viewer = await connectViewer(server.wsUrl, admin);
    const session = await watch(viewer, device, 'cam-d');
    viewer.close();
    const ended = await device.next('watch_ended');
    assert.deepEqual(ended.payload, { session_id: session, reason: 'viewer_disconnected' });
    device.close();
  });

  test('a device that disconnects ends its sessions with "device_disconnected"', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-h', keys['cam-h'] as string);
    const viewer = await connectViewer(server.wsUrl, admin);
    const session = await watch(viewer, device, 'cam-h');
    device.close();
    const ended = await viewer.next('watch_ended');
    assert.equal(ended.payload.session_id, session);
    assert.equal(ended.payload.reason, 'device_disconnected');
    assert.equal(ended.payload.device_id, 'cam-h');
    viewer.close();
  });

  test('watching an unknown device is "Device not found", an offline one "Device is offline"', async () => {
    const viewer = await connectViewer(server.wsUrl, admin);
    viewer.envelope('watch_request', { device_id: 'ghost' }, 'g');
    const missing = await viewer.next('error');
    assert.equal(missing.payload.message, 'Device not found');
    assert.equal(missing.request_id, 'g');
    viewer.envelope('watch_request', { device_id: 'cam-a' }, 'off');
    const offline = await viewer.next('error');
    assert.equal(offline.payload.message, 'Device is offline');
    assert.equal(offline.request_id, 'off');
    viewer.close();
  });

  test('a user limited to other devices cannot watch this one, online or not', async () => {
    const limited = await createUser(server.url, admin, 'limited-viewer', 'viewer', ['cam-a']);
    const device = await connectDevice(server.wsUrl, 'cam-d', keys['cam-d'] as string);
    const viewer = await connectViewer(server.wsUrl, limited);
    viewer.envelope('watch_request', { device_id: 'cam-d' }, 'x');
    assert.equal((await viewer.next('error')).payload.message, 'Device not found');
    viewer.envelope('watch_request', { device_id: 'cam-a' }, 'y');
    assert.equal((await viewer.next('error')).payload.message, 'Device is offline');
    viewer.close();
    device.close();
  });
});

describe('presence', () => {
  test('device_presence is stored and GET /api/devices shows online, presence and last_seen', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-c', keys['cam-c'] as string);
    device.envelope('device_presence', { battery: 85, temperature: 45, recording: false });
    device.envelope('heartbeat', {}, 'sync');
    await device.next('heartbeat_ack');
    const listed = await api(server.url, 'GET', '/api/devices', { token: admin });
    const entry = listed.body.devices.find((d: { device_id: string }) => d.device_id === 'cam-c');
    assert.equal(entry.online, true);
    assert.deepEqual(entry.presence, { battery: 85, temperature: 45, recording: false });
    assert.ok(Date.parse(entry.last_seen) <= Date.now());
    device.close();
    await device.closed;
    // The server notices the close on its own schedule: poll the API, bounded.
    const offline = await eventually('the device offline after its socket closed', async () => {
      const again = await api(server.url, 'GET', '/api/devices/cam-c', { token: admin });
      return again.body.online === false && again.body;
    });
    assert.deepEqual(offline.presence, { battery: 85, temperature: 45, recording: false });
  });

  test('invalid presence is refused with an error', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-c', keys['cam-c'] as string);
    device.envelope('device_presence', { nested: { no: 1 } }, 'p');
    const error = await device.next('error');
    assert.equal(error.request_id, 'p');
    assert.match(error.payload.message as string, /Invalid device_presence/);
    device.close();
  });
});
