import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectDevice, connectViewer } from '../helpers/client.ts';
import { login, registerDevice } from '../helpers/http.ts';
import { startServer, type TestServer, unsupported } from '../helpers/server.ts';

/** A reader that stops reading is cut off (1013) before its backlog grows the server's memory. */

let server: TestServer;

before(async () => {
  if (!unsupported('send-buffer')) server = await startServer({ env: { SEND_BUFFER_BYTES: '65536' } });
});
after(() => server?.stop());

test('a device that stops reading is closed with 1013 while its viewer carries on', {
  skip: unsupported('send-buffer'),
}, async () => {
  const admin = await login(server.url);
  const key = await registerDevice(server.url, admin, 'stuck');
  const device = await connectDevice(server.wsUrl, 'stuck', key);
  const viewer = await connectViewer(server.wsUrl, admin);
  viewer.envelope('watch_request', { device_id: 'stuck' });
  const session = (await viewer.next('watch_ready')).payload.session_id;
  await device.next('watch_request');
  // Stop reading: the kernel buffers fill, then the server's send buffer for this socket.
  (device.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const candidate = { candidate: 'x'.repeat(60_000), sdpMid: '0', sdpMLineIndex: 0 };
  const closed = device.closed;
  for (let i = 0; i < 400; i++) {
    viewer.envelope('signal_ice', { session_id: session, candidate });
    if (i % 50 === 49) {
      viewer.envelope('heartbeat', {}, `hb${i}`);
      await viewer.next('heartbeat_ack');
    }
  }
  (device.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  assert.equal((await closed).code, 1013);
  viewer.envelope('heartbeat', {}, 'alive');
  assert.equal((await viewer.next('heartbeat_ack')).request_id, 'alive');
  viewer.close();
});
