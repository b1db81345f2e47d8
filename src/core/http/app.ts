import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import * as v from 'valibot';
import { mayAccess } from '../auth/access.ts';
import { hashDeviceKey, newDeviceKey } from '../auth/device-key.ts';
import { passwordLogin } from '../auth/login.ts';
import { signUserToken, verifyUserToken } from '../auth/tokens.ts';
import type { Profile } from '../contract.ts';
import { describeIssues } from '../envelope/schema.ts';
import { errorText } from '../log.ts';
import type { ConnectInfo, Services } from '../ports.ts';
import { roomId } from '../rooms/index.ts';
import { isRegistered, shardOf } from '../rooms/registry-room.ts';
import { describeKeys } from '../state/describe.ts';
import { Changes, type StateError, unknownChangeKey } from '../state/model.ts';
import { type StaticFiles, serveStatic } from './assets.ts';
import { originAllowed } from './origin.ts';
import { DeviceId, LoginBody, NewDeviceBody, NewUserBody, UserChangeBody, Username } from './schemas.ts';

/** What a runtime adapter gives the app: everything here is the same on Node, Deno and Workers. */
export interface AppOptions {
  services: Services;
  runtime: 'node' | 'deno' | 'workerd';
  version: string;
  startedAt: number;
  /** Completes a WebSocket upgrade and hands the socket to the room `roomId`. */
  upgrade(c: Context, roomId: string, info: ConnectInfo): Response | Promise<Response>;
  /** The peer's address as the platform sees it (the app applies TRUST_PROXY on top). */
  clientAddress(c: Context): string;
  /** Open sockets on this host, where the runtime can count them. */
  socketsOpen(): number | null;
  /** The web panel's files, where the runtime serves them itself (Workers serves them as static assets). */
  staticFiles?: StaticFiles | null | undefined;
}

type Env = { Variables: { user: Profile } };

export function createApp(opts: AppOptions): Hono<Env> {
  const { services } = opts;
  const { config, rooms, log } = services;
  const app = new Hono<Env>();

  const allowed = (c: Context) => {
    const origin = c.req.header('origin');
    return origin === undefined || originAllowed(origin, c.req.header('host'), config.allowedOrigins);
  };
  app.use(
    '/api/*',
    cors({ origin: (origin, c) => (originAllowed(origin, c.req.header('host'), config.allowedOrigins) ? origin : null) }),
  );
  app.use('*', async (c, next) => {
    if (!allowed(c)) {
      log.warn('origin refused', { origin: c.req.header('origin'), path: c.req.path });
      return c.json(
        { error: 'Origin not allowed', origin: c.req.header('origin'), hint: 'add this origin to ALLOWED_ORIGINS' },
        403,
      );
    }
    await next();
  });
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: config.maxBodyBytes,
      onError: (c) => c.json({ error: 'Request body too large', max_bytes: config.maxBodyBytes }, 413),
    }),
  );

  const requireUser = createMiddleware<Env>(async (c, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    if (!match)
      return c.json(
        { error: 'Missing bearer token', hint: 'log in with POST /api/login and send Authorization: Bearer <token>' },
        401,
      );
    const claims = await verifyUserToken(services.tokens, match[1] as string);
    if (!claims) return c.json({ error: 'Invalid or expired token', hint: 'log in again with POST /api/login' }, 401);
    // The user record, not the token, says what they may do now; a token issued before the user was
    // changed or removed (another generation) is no longer theirs.
    const profile = await rooms.user(claims.sub).session(claims.gen);
    if (!profile) {
      return c.json({ error: 'Invalid or expired token', hint: 'this user was changed or removed: log in again' }, 401);
    }
    c.set('user', profile);
    await next();
  });
  const requireAdmin = createMiddleware<Env>(async (c, next) => {
    if (c.get('user').role !== 'admin') return c.json({ error: 'Forbidden: this needs the admin role' }, 403);
    await next();
  });
  // Behind a proxy of yours (TRUST_PROXY), the client is the first X-Forwarded-For entry.
  const clientOf = (c: Context) =>
    (config.trustProxy ? c.req.header('x-forwarded-for')?.split(',')[0]?.trim() : undefined) || opts.clientAddress(c);

  if (opts.staticFiles) app.use('*', serveStatic(opts.staticFiles));
  app.get('/', (c) =>
    c.text(
      `edgecam ${opts.version}: a camera-control and WebRTC-signaling server. See /api/status.\n` +
        'The web panel is not built: run `npm run build` (npm start does it for you).\n',
    ),
  );
  app.get('/healthz', (c) => c.json({ ok: true }));

  app.get('/api/status', async (c) => {
    const devices = await rooms.directory().listDevices();
    const infos = await Promise.all(devices.map((d) => rooms.device(d.device_id).info()));
    return c.json({
      version: opts.version,
      runtime: opts.runtime,
      uptime_s: Math.floor((services.clock.now() - opts.startedAt) / 1000),
      devices_registered: devices.length,
      devices_online: infos.filter((info) => info?.online).length,
      sockets_open: opts.socketsOpen(),
    });
  });

  app.post('/api/login', async (c) => {
    const body = await readBody(c, LoginBody);
    if (body instanceof Response) return body;
    const result = await passwordLogin(services, body.username, body.password, clientOf(c));
    if (!result.ok && result.retryAfter) {
      c.header('Retry-After', String(result.retryAfter));
      return c.json({ error: 'Too many failed logins; try again later', retry_after: result.retryAfter }, 429);
    }
    if (!result.ok) return c.json({ error: 'Invalid username or password' }, 401);
    const profile = result.session;
    const nowS = Math.floor(services.clock.now() / 1000);
    const token = await signUserToken(services.tokens, { sub: profile.username, role: profile.role, gen: profile.gen }, nowS);
    log.info('login', { username: profile.username, role: profile.role });
    return c.json({
      token,
      token_type: 'Bearer',
      expires_in: config.tokenTtlS,
      user: { username: profile.username, role: profile.role },
    });
  });

  app.get('/api/me', requireUser, (c) => c.json(c.get('user')));

  app.get('/api/users', requireUser, requireAdmin, async (c) => c.json({ users: await rooms.directory().listUsers() }));

  app.post('/api/users', requireUser, requireAdmin, async (c) => {
    const body = await readBody(c, NewUserBody);
    if (body instanceof Response) return body;
    const entry = { username: body.username, role: body.role, devices: body.devices ?? null };
    if (!(await rooms.directory().addUser(entry))) return c.json({ error: 'User already exists', username: body.username }, 409);
    const user = rooms.user(body.username);
    // A leftover record (a removal cut short) is replaced: the directory is the source of truth for who exists.
    if ((await user.create(entry, body.password)) === 'exists') {
      await user.remove();
      await user.create(entry, body.password);
    }
    log.info('user created', { username: entry.username, role: entry.role, by: c.get('user').username });
    return c.json(entry, 201);
  });

  app.delete('/api/users/:username', requireUser, requireAdmin, async (c) => {
    const username = v.safeParse(Username, c.req.param('username'));
    if (!username.success) return c.json({ error: 'User not found' }, 404);
    const users = await rooms.directory().listUsers();
    const target = users.find((u) => u.username === username.output);
    if (!target) return c.json({ error: 'User not found' }, 404);
    if (target.role === 'admin' && users.filter((u) => u.role === 'admin').length === 1) {
      return c.json({ error: 'Cannot delete the last admin; create another admin first' }, 409);
    }
    await rooms.directory().removeUser(target.username);
    await rooms.user(target.username).remove();
    log.info('user deleted', { username: target.username, by: c.get('user').username });
    return c.body(null, 204);
  });

  app.patch('/api/users/:username', requireUser, requireAdmin, async (c) => {
    const username = v.safeParse(Username, c.req.param('username'));
    if (!username.success) return c.json({ error: 'User not found' }, 404);
    const body = await readBody(c, UserChangeBody);
    if (body instanceof Response) return body;
    const users = await rooms.directory().listUsers();
    const target = users.find((u) => u.username === username.output);
    if (!target) return c.json({ error: 'User not found' }, 404);
    if (target.role === 'admin' && body.role && body.role !== 'admin' && users.filter((u) => u.role === 'admin').length === 1) {
      return c.json({ error: 'Cannot demote the last admin; make another user admin first' }, 409);
    }
    const profile = await rooms.user(target.username).update(body);
    if (!profile) return c.json({ error: 'User not found' }, 404);
    await rooms.directory().updateUser(profile);
    // The user's open sockets were closed and their tokens no longer pass: they log in again.
    log.info('user changed', { username: profile.username, role: profile.role, by: c.get('user').username });
    return c.json(profile);
  });

  app.get('/api/devices', requireUser, async (c) => {
    const user = c.get('user');
    const entries = (await rooms.directory().listDevices()).filter((d) => mayAccess(user, d.device_id));
    const infos = await Promise.all(entries.map((d) => rooms.device(d.device_id).info()));
    return c.json({ devices: infos.filter((info) => info !== null) });
  });

  /** A device id from a request that names a registered device this user may access: only then is its room asked. */
  const reachable = async (user: Profile, id: string) =>
    v.is(DeviceId, id) && mayAccess(user, id) && (await isRegistered(rooms, id));

  app.get('/api/devices/:id', requireUser, async (c) => {
    const id = c.req.param('id');
    const info = (await reachable(c.get('user'), id)) ? await rooms.device(id).info() : null;
    return info ? c.json(info) : c.json({ error: 'Device not found', device_id: id }, 404);
  });

  app.post('/api/devices', requireUser, requireAdmin, async (c) => {
    const body = await readBody(c, NewDeviceBody);
    if (body instanceof Response) return body;
    const entry = { device_id: body.device_id, name: body.name ?? body.device_id };
    if (!(await rooms.directory().addDevice(entry)))
      return c.json({ error: 'Device already exists', device_id: entry.device_id }, 409);
    await rooms.registry(shardOf(entry.device_id)).add(entry.device_id);
    const key = newDeviceKey();
    const registration = { ...entry, key: await hashDeviceKey(key), created_at: new Date(services.clock.now()).toISOString() };
    const device = rooms.device(entry.device_id);
    if ((await device.register(registration)) === 'exists') {
      await device.unregister();
      await device.register(registration);
    }
    log.info('device registered', { device: entry.device_id, by: c.get('user').username });
    return c.json({ device_id: entry.device_id, name: entry.name, key }, 201);
  });

  app.delete('/api/devices/:id', requireUser, requireAdmin, async (c) => {
    const id = c.req.param('id');
    if (!v.is(DeviceId, id) || !(await rooms.directory().removeDevice(id)))
      return c.json({ error: 'Device not found', device_id: id }, 404);
    await rooms.registry(shardOf(id)).remove(id);
    await rooms.device(id).unregister();
    log.info('device removed', { device: id, by: c.get('user').username });
    return c.body(null, 204);
  });

  app.get('/api/schema', (c) => c.json({ anonymous_read: config.anonymousRead, keys: describeKeys() }));

  app.get('/api/devices/:id/state', requireUser, async (c) => {
    const id = c.req.param('id');
    const read = (await reachable(c.get('user'), id)) ? await rooms.device(id).readState() : null;
    if (!read) return c.json({ error: 'Device not found', device_id: id }, 404);
    c.header('X-State-Seq', String(read.seq));
    return c.json(read.state);
  });

  app.patch('/api/devices/:id/state', requireUser, async (c) => {
    const id = c.req.param('id');
    const user = c.get('user');
    if (!(await reachable(user, id))) return c.json({ error: 'Device not found', device_id: id }, 404);
    const body = await readBody(c, Changes('body must be an object of key: value'));
    if (body instanceof Response) return body;
    const unknown = unknownChangeKey(body);
    if (unknown !== null) return c.json({ error: 'Unknown key', key: unknown }, 400);
    const result = await rooms.device(id).applyChanges({ kind: 'user', username: user.username, role: user.role }, body);
    if (!result) return c.json({ error: 'Device not found', device_id: id }, 404);
    if (!result.ok) return c.json(result.error, statusOf(result.error));
    c.header('X-State-Seq', String(result.seq));
    return c.json(result.applied);
  });

  const socketRoute = (path: string, target: (c: Context, info: ConnectInfo) => Promise<[string, ConnectInfo]>) =>
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
  const ownRoom = async (_c: Context, info: ConnectInfo): Promise<[string, ConnectInfo]> => [
    roomId.connection(crypto.randomUUID()),
    info,
  ];
  socketRoute('/ws/device', ownRoom);
  socketRoute('/ws/viewer', ownRoom);
  // A refusal still completes the upgrade, so the client sees a close 1008 with the reason rather than
  // a bare HTTP status (which browsers hide).
  const refuse = (info: ConnectInfo, reason: string): [string, ConnectInfo] => [
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

  socketRoute('/api/v1', async (c, info) => {
    const since = c.req.query('since');
    if (since !== undefined && !/^\d{1,15}$/.test(since)) return refuse(info, 'since must be a sequence number');
    const device = await chooseDevice(c);
    if (typeof device === 'string') return refuse(info, device);
    return [roomId.device(device.id), { ...info, ...(since !== undefined ? { since: Number(since) } : {}) }];
  });

  const camera = async (c: Context, info: ConnectInfo): Promise<[string, ConnectInfo]> => {
    // Devices present their key, people their JWT: as a Bearer header, or ?key= / ?token= for clients
    // that cannot set headers. Query strings never reach our logs. Until credentials are checked, every
    // refusal reads the same whether the device exists or not: no probing which ids are registered.
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const token = c.req.query('token') ?? (bearer?.split('.').length === 3 ? bearer : undefined);
    const key = c.req.query('key') ?? (token === undefined ? bearer : undefined);
    if (token === undefined && key === undefined) {
      return refuse(info, 'Credentials required: Authorization: Bearer <device key or user token>, or ?key= / ?token=');
    }
    if (token !== undefined) {
      const claims = await verifyUserToken(services.tokens, token);
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
  socketRoute('/ws/camera/', camera);
  socketRoute('/ws/camera', camera);

  app.notFound((c) => c.json({ error: 'Not found', path: c.req.path }, 404));
  app.onError((error, c) => {
    log.error('request failed', { method: c.req.method, path: c.req.path, error: errorText(error) });
    return c.json({ error: 'Internal server error' }, 500);
  });
  return app;
}

async function readBody<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S> | Response> {
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    return c.json({ error: 'Invalid JSON body', hint: 'send a JSON object with Content-Type: application/json' }, 400);
  }
  const parsed = v.safeParse(schema, json);
  if (!parsed.success) return c.json({ error: 'Invalid request', message: describeIssues(parsed.issues, 'body') }, 400);
  return parsed.output;
}

function statusOf(error: StateError): 400 | 403 {
  return error.error === 'Permission denied' ? 403 : 400;
}
