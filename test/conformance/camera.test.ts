import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import protobuf from 'protobufjs';
import { connectDevice, connectViewer, TestSocket } from '../helpers/client.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/**
 * /ws/camera/, checked with a second protobuf implementation: protobufjs reflection loading
 * proto/camera_control.proto, not the server's generated code.
 */

const root = await protobuf.load(new URL('../../proto/camera_control.proto', import.meta.url).pathname);
const CameraSettings = root.lookupType('camera_control.CameraSettings');
const ControlCommand = root.lookupType('camera_control.ControlCommand');
const StatusResponse = root.lookupType('camera_control.StatusResponse');
const plain = (type: protobuf.Type, bytes: Uint8Array) => type.toObject(type.decode(bytes), { longs: Number });

let server: TestServer;
let admin: string;
let operator: string;
let key: string;

before(async () => {
  server = await startServer();
  admin = await login(server.url);
  operator = await createUser(server.url, admin, 'opie', 'operator');
  key = await registerDevice(server.url, admin, 'pi');
  await registerDevice(server.url, admin, 'other');
});
after(() => server.stop());

class CameraSocket extends TestSocket {
  /** The next binary frame, decoded as `type`. */
  async frame(type: protobuf.Type, match: (m: Record<string, unknown>) => boolean = () => true) {
    const raw = await this.nextWhere((m) => Buffer.isBuffer(m) && match(plain(type, m)), `a ${type.name}`);
    return { raw: new Uint8Array(raw as Buffer), message: plain(type, raw as Buffer) };
  }
}

async function open(query: string, headers?: Record<string, string>): Promise<CameraSocket> {
  const socket = new CameraSocket(`${server.wsUrl}/ws/camera/${query}`, headers ? { headers } : undefined);
  await socket.opened;
  return socket;
}
const asDevice = () => open('?device=pi', { authorization: `Bearer ${key}` });
const asController = (token = operator) => open(`?device=pi&token=${token}`);
const command = (fields: Record<string, unknown>) => ControlCommand.encode(ControlCommand.fromObject(fields)).finish();
const status = (fields: Record<string, unknown>) => StatusResponse.encode(StatusResponse.fromObject(fields)).finish();
const patch = (body: object) => api(server.url, 'PATCH', '/api/devices/pi/state', { token: admin, body });

/** The protobuf tags present in an encoded message: the field numbers on the wire. */
function fieldsOnWire(bytes: Uint8Array): number[] {
  const reader = protobuf.Reader.create(bytes);
  const fields: number[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    fields.push(tag >>> 3);
    reader.skipType(tag & 7);
  }
  return fields;
}

describe('on connect', () => {
  test("a device gets the current CameraSettings first, every field at seed 001's number, zeros included", async () => {
    await patch({ brightness: 0, 'main-camera': 1, resolution: '1280x720', 'ai-confidence': 0.7 });
    const device = await asDevice();
    const { raw, message } = await device.frame(CameraSettings);
    assert.deepEqual(
      fieldsOnWire(raw).sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17],
    );
    assert.equal(message.width, 1280);
    assert.equal(message.height, 720);
    assert.equal(message.brightness, 0, 'an explicit zero is on the wire');
    assert.equal(message.cameraIndex, 0, 'camera_index = main-camera - 1');
    assert.equal(message.fps, 30);
    assert.equal(message.bitrate, '2M');
    assert.equal(message.encoding, 'h264');
    assert.equal(message.cameraName, 'Camera');
    assert.equal(message.autoExposure, true);
    assert.ok(Math.abs((message.aiConfidence as number) - 0.7) < 1e-6);
    device.close();
  });

  test('a controller gets the CameraSettings first too; /ws/camera without the slash works', async () => {
    const controller = await open(`?device=pi&token=${operator}`.replace('/', ''));
    assert.equal((await controller.frame(CameraSettings)).message.fps, 30);
    controller.close();
    const bare = new CameraSocket(`${server.wsUrl}/ws/camera?device=pi&key=${key}`);
    await bare.opened;
    assert.equal((await bare.frame(CameraSettings)).message.height, 720);
    bare.close();
  });

  test('before its credentials are checked, a client learns nothing of which devices exist', async () => {
    const reasons = async (query: string) => {
      const socket = await open(query);
      const closed = await socket.closed;
      return `${closed.code} ${closed.reason}`;
    };
    // No credentials: the same answer for a registered device and an unknown one.
    assert.equal(await reasons('?device=pi'), await reasons('?device=no-such-cam'));
    assert.match(await reasons('?device=no-such-cam'), /^1008 Credentials required/);
    // A key: a wrong key for a registered device reads as a key for an unknown one.
    assert.equal(await reasons('?device=pi&key=wrong'), await reasons('?device=no-such-cam&key=wrong'));
    // A valid user token may hear that a device does not exist.
    assert.match(await reasons(`?device=no-such-cam&token=${operator}`), /^1008 Unknown device: no-such-cam/);
  });

  test('missing or wrong credentials are closed with 1008; credentials never reach the logs', async () => {
    for (const query of ['?device=pi', '?device=pi&key=wrong', '?device=pi&token=wrong.jwt.here', '?device=nope&key=x']) {
      const socket = await open(query);
      assert.equal((await socket.closed).code, 1008, query);
    }
    assert.ok(!server.output().includes(key), 'the device key is not logged');
    assert.ok(!server.output().includes(operator), 'the token is not logged');
  });
});

describe('controller → device', () => {
  test('UPDATE_SETTINGS changes exactly the fields on the wire and reaches the device; its reply comes back by request_id', async () => {
    await patch({ brightness: 40, contrast: 40 });
    const device = await asDevice();
    await device.frame(CameraSettings);
    const controller = await asController();
    await controller.frame(CameraSettings);
    controller.ws.send(command({ command: 0, settings: { brightness: 0 }, requestId: 'r-1' }));

    const update = await device.frame(ControlCommand);
    assert.equal(update.message.command ?? 0, 0);
    assert.equal(update.message.requestId, 'r-1');
    assert.deepEqual(
      fieldsOnWire(ControlCommand.encode(ControlCommand.fromObject({ settings: update.message.settings })).finish()),
      [2],
    );
    assert.deepEqual(update.message.settings, { brightness: 0 });

    const state = (await api(server.url, 'GET', '/api/devices/pi/state', { token: admin })).body;
    assert.equal(state.brightness, 0);
    assert.equal(state.contrast, 40, 'fields not on the wire are left alone');

    device.ws.send(status({ success: true, message: 'applied', requestId: 'r-1', currentSettings: { brightness: 0 } }));
    const reply = await controller.frame(StatusResponse, (m) => m.requestId === 'r-1');
    assert.equal(reply.message.success, true);
    assert.equal(reply.message.message, 'applied');
    controller.close();
    device.close();
  });

  test('controllers get the current settings on every change, from any protocol', async () => {
    const controller = await asController();
    await controller.frame(CameraSettings);
    await patch({ sharpness: 12 });
    const pushed = await controller.frame(StatusResponse, (m) => (m.currentSettings as { sharpness?: number })?.sharpness === 12);
    assert.equal(pushed.message.success, true);
    assert.equal((pushed.message.currentSettings as { fps: number }).fps, 30);
    controller.close();
  });

  test('an invalid value is refused with success: false and changes nothing', async () => {
    const controller = await asController();
    await controller.frame(CameraSettings);
    controller.ws.send(command({ command: 0, settings: { brightness: 150, contrast: 1 }, requestId: 'bad' }));
    const reply = await controller.frame(StatusResponse, (m) => m.requestId === 'bad');
    assert.equal(reply.message.success ?? false, false);
    assert.match(reply.message.message as string, /Invalid value: brightness/);
    assert.notEqual((await api(server.url, 'GET', '/api/devices/pi/state', { token: admin })).body.contrast, 1);
    controller.close();
  });

  test('with the device offline the server answers commands itself with success: false', async () => {
    const controller = await asController();
    await controller.frame(CameraSettings);
    controller.ws.send(command({ command: 1, requestId: 'start' }));
    const reply = await controller.frame(StatusResponse, (m) => m.requestId === 'start');
    assert.equal(reply.message.success ?? false, false);
    assert.match(reply.message.message as string, /offline/);
    controller.close();
  });

  test('a viewer may watch the settings but not control the camera', async () => {
    const viewer = await createUser(server.url, admin, 'vic', 'viewer');
    const controller = await asController(viewer);
    await controller.frame(CameraSettings);
    controller.ws.send(command({ command: 0, settings: { brightness: 1 }, requestId: 'v' }));
    const reply = await controller.frame(StatusResponse, (m) => m.requestId === 'v');
    assert.match(reply.message.message as string, /Permission denied/);
    controller.close();
  });

  test('undecodable and text frames get StatusResponse{success: false} and the socket stays open', async () => {
    const controller = await asController();
    await controller.frame(CameraSettings);
    controller.ws.send(Buffer.from([0x0a, 0xff, 0xff, 0xff]));
    assert.match((await controller.frame(StatusResponse)).message.message as string, /Undecodable/);
    controller.send('{"brightness": 5}');
    assert.match((await controller.frame(StatusResponse)).message.message as string, /binary/);
    controller.ws.send(command({ command: 3, requestId: 'still-here' }));
    assert.ok(await controller.frame(StatusResponse, (m) => m.requestId === 'still-here'));
    controller.close();
  });
});

describe('across channels', () => {
  test('commands reach a device on /ws/device as `command`, and its `status` reply comes back as a StatusResponse', async () => {
    const device = await connectDevice(server.wsUrl, 'pi', key);
    await device.next('settings');
    const controller = await asController();
    await controller.frame(CameraSettings);
    controller.ws.send(command({ command: 4, requestId: 'restart-1' }));
    const forwarded = await device.next('command');
    assert.deepEqual(forwarded.payload, { command: 'restart_camera', request_id: 'restart-1' });
    device.envelope('status', { success: true, message: 'restarted', state: { fps: 15 } }, 'restart-1');
    const reply = await controller.frame(StatusResponse, (m) => m.requestId === 'restart-1');
    assert.equal(reply.message.success, true);
    assert.equal(reply.message.message, 'restarted');
    assert.equal((reply.message.currentSettings as { fps: number }).fps, 15);

    controller.ws.send(command({ command: 0, settings: { fps: 20 }, requestId: 'upd' }));
    const settings = await device.next('settings');
    assert.deepEqual(settings.payload.settings, { fps: 20 });
    assert.equal(settings.payload.request_id, 'upd');
    // The request_id echoed inside the payload, where `command` and `settings` carried it, works too.
    device.envelope('status', { success: true, message: 'applied', request_id: 'upd' });
    assert.equal((await controller.frame(StatusResponse, (m) => m.requestId === 'upd')).message.message, 'applied');
    controller.close();
    device.close();
  });

  test("a device's current_settings report becomes the state and reaches /api/v1 clients", async () => {
    const device = await asDevice();
    await device.frame(CameraSettings);
    const v1 = await TestSocket.open(`${server.wsUrl}/api/v1?device=pi`);
    device.ws.send(status({ success: true, currentSettings: { saturation: 66, fps: 20 } }));
    assert.equal((await v1.nextWhere((m) => 'saturation' in m)).saturation, 66);
    v1.close();
    device.close();
  });

  test('a device only on /ws/camera/ is online, but watching it says it needs /ws/device', async () => {
    const device = await asDevice();
    await device.frame(CameraSettings);
    const listed = (await api(server.url, 'GET', '/api/devices/pi', { token: admin })).body;
    assert.equal(listed.online, true);
    assert.ok(Date.now() - Date.parse(listed.last_seen) < 60_000, 'last_seen is set while connected');
    const viewer = await connectViewer(server.wsUrl, admin);
    viewer.envelope('watch_request', { device_id: 'pi' }, 'w');
    assert.match((await viewer.next('error')).payload.message as string, /only on \/ws\/camera\/.*\/ws\/device/);
    viewer.close();
    device.close();
    await device.closed;
  });

  test('a newer device socket replaces the older one with 4000', async () => {
    const first = await asDevice();
    await first.frame(CameraSettings);
    const second = await asDevice();
    await second.frame(CameraSettings);
    assert.equal((await first.closed).code, 4000);
    second.close();
  });
});
