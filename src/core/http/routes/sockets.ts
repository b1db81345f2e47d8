import { type Context, Hono } from 'hono';
import * as v from 'valibot';
import { mayAccess } from '../../auth/access.ts';
import { verifyUserToken } from '../../auth/tokens.ts';
import type { ConnectInfo } from '../../ports.ts';
import { roomId } from '../../rooms/index.ts';
import { isRegistered } from '../../rooms/registry-room.ts';
import type { AppOptions, Env } from '../env.ts';
import { bearerOf, type Guards } from '../guards.ts';
import { DeviceId, SinceParam } from '../schemas.ts';

type Target = [room: string, info: ConnectInfo];

/**
 * The WebSocket endpoints: each upgrade goes to the room that will hold the socket. /ws/device and
 * /ws/viewer get a connection room of their own (identity comes later, with the hello); /api/v1 and
 * /ws/camera/ go to their device's room, chosen (and for /ws/camera/, authorised) here.
 */
export function sockets(opts: AppOptions, { clientOf }: Guards): Hono<Env> {
  const { rooms, log, tokens } = opts.services;
  const app = new Hono<Env>();

  const route = (path: string, target: (c: Context, info: ConnectInfo) => Promise<Target>) =>
    app.get(path, async (c) => {
      if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
        c.header('Upgrade', 'websocket');
        return c.json({ error: 'Upgrade Required', hint: `open ${path} with a WebSocket client` }, 426);
      }
      const key = c.req.header('sec-websocket-key') ?? '';
      if (!/^[A-Za-z0-9+/]{22}==$/.test(key) || c.req.header('sec-websocket-version') !== '13') {
        return c.json({ error: 'Bad WebSocket upgrade: needs a valid Sec-WebSocket-Key and Sec-WebSocket-Version: 13' }, 400);
      }
      const [room, info] = await target(c, { path, clientAddress: clientOf(c) });
      return opts.upgrade(c, room, info);
    });
  const ownRoom = async (_c: Context, info: ConnectInfo): Promise<Target> => [roomId.connection(crypto.randomUUID()), info];
  // A refusal still completes the upgrade, so the client sees a close 1008 with the reason rather than
  // a bare HTTP status (which browsers hide).
  const refuse = (info: ConnectInfo, reason: string): Target => [
    roomId.connection(crypto.randomUUID()),
    { ...info, refuse: reason },
  ];

  /** ?device=, else the only device registered; a string is the reason to refuse. */
  const chooseDevice = async (c: Context): Promise<{ id: string } | string> => {
    const device = c.req.query('device');
    if (device === undefined) {
      const devices = await rooms.directory().listDevices();
      if (devices.length === 1) return { id: (devices[0] as { device_id: string }).device_id };
      return devices.length === 0 ? 'No device is registered' : 'Several devices are registered: choose one with ?device=<id>';
    }
    if (!v.is(DeviceId, device) || !(await isRegistered(rooms, device))) return `Unknown device: ${device.slice(0, 64)}`;
    return { id: device };
  };

  const apiV1 = async (c: Context, info: ConnectInfo): Promise<Target> => {
    const since = c.req.query('since');
    if (since !== undefined && !v.is(SinceParam, since)) return refuse(info, 'since must be a sequence number');
    const device = await chooseDevice(c);
    if (typeof device === 'string') return refuse(info, device);
    return [roomId.device(device.id), { ...info, ...(since !== undefined ? { since: Number(since) } : {}) }];
  };

  const camera = async (c: Context, info: ConnectInfo): Promise<Target> => {
    // Devices present their key, people their JWT: as a Bearer header, or ?key= / ?token= for clients
    // that cannot set headers. Query strings never reach our logs. Until credentials are checked, every
    // refusal reads the same whether the device exists or not: no probing which ids are registered.
    const bearer = bearerOf(c);
    const token = c.req.query('token') ?? (bearer?.split('.').length === 3 ? bearer : undefined);
    const key = c.req.query('key') ?? (token === undefined ? bearer : undefined);
    if (token === undefined && key === undefined) {
      return refuse(info, 'Credentials required: Authorization: Bearer <device key or user token>, or ?key= / ?token=');
    }
    if (token !== undefined) {
      const claims = await verifyUserToken(tokens, token);
      const user = claims ? await rooms.user(claims.sub).session(claims.gen) : null;
      if (!claims || !user) return refuse(info, 'Invalid token');
      const device = await chooseDevice(c);
      if (typeof device === 'string') return refuse(info, device);
      if (!mayAccess(user, device.id)) return refuse(info, `Unknown device: ${device.id}`);
      return [roomId.device(device.id), { ...info, camera: { role: 'controller', user, gen: claims.gen } }];
    }
    const device = await chooseDevice(c);
    if (typeof device === 'string' || !(await rooms.device(device.id).verifyKey(key as string))) {
      log.warn('camera device refused', { device: c.req.query('device')?.slice(0, 64), client: info.clientAddress });
      return refuse(info, 'Wrong device key or unknown device (name it with ?device=<id>)');
    }
    return [roomId.device(device.id), { ...info, camera: { role: 'device' } }];
  };

  route('/ws/device', ownRoom);
  route('/ws/viewer', ownRoom);
  route('/api/v1', apiV1);
  route('/ws/camera/', camera);
  route('/ws/camera', camera);
  return app;
}
