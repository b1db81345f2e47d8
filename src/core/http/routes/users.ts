import { Hono } from 'hono';
import * as v from 'valibot';
import type { Services } from '../../ports.ts';
import { readBody } from '../body.ts';
import type { Env } from '../env.ts';
import type { Guards } from '../guards.ts';
import { NewUserBody, UserChangeBody, Username } from '../schemas.ts';

/** The admin's user management: list, create, change, delete; there is always one admin left. */
export function users(services: Services, { requireUser, requireAdmin }: Guards): Hono<Env> {
  const { rooms, log } = services;
  const app = new Hono<Env>();
  app.use(requireUser, requireAdmin);

  /** The directory's entry for `:username`, with all users (for the last-admin checks). */
  const find = async (param: string) => {
    const username = v.safeParse(Username, param);
    if (!username.success) return null;
    const all = await rooms.directory().listUsers();
    const target = all.find((u) => u.username === username.output);
    return target ? { target, admins: all.filter((u) => u.role === 'admin').length } : null;
  };

  return app
    .get('/', async (c) => c.json({ users: await rooms.directory().listUsers() }))
    .post('/', async (c) => {
      const body = await readBody(c, NewUserBody);
      if (body instanceof Response) return body;
      const entry = { username: body.username, role: body.role, devices: body.devices ?? null };
      if (!(await rooms.directory().addUser(entry)))
        return c.json({ error: 'User already exists', username: body.username }, 409);
      const user = rooms.user(body.username);
      // A leftover record (a removal cut short) is replaced: the directory is the source of truth for who exists.
      if ((await user.create(entry, body.password)) === 'exists') {
        await user.remove();
        await user.create(entry, body.password);
      }
      log.info('user created', { username: entry.username, role: entry.role, by: c.get('user').username });
      return c.json(entry, 201);
    })
    .delete('/:username', async (c) => {
      const found = await find(c.req.param('username'));
      if (!found) return c.json({ error: 'User not found' }, 404);
      const { target, admins } = found;
      if (target.role === 'admin' && admins === 1) {
        return c.json({ error: 'Cannot delete the last admin; create another admin first' }, 409);
      }
      await rooms.directory().removeUser(target.username);
      await rooms.user(target.username).remove();
      log.info('user deleted', { username: target.username, by: c.get('user').username });
      return c.body(null, 204);
    })
    .patch('/:username', async (c) => {
      const param = c.req.param('username');
      if (!v.is(Username, param)) return c.json({ error: 'User not found' }, 404);
      const body = await readBody(c, UserChangeBody);
      if (body instanceof Response) return body;
      const found = await find(param);
      if (!found) return c.json({ error: 'User not found' }, 404);
      const { target, admins } = found;
      if (target.role === 'admin' && body.role && body.role !== 'admin' && admins === 1) {
        return c.json({ error: 'Cannot demote the last admin; make another user admin first' }, 409);
      }
      const profile = await rooms.user(target.username).update(body);
      if (!profile) return c.json({ error: 'User not found' }, 404);
      await rooms.directory().updateUser(profile);
      // The user's open sockets were closed and their tokens no longer pass: they log in again.
      log.info('user changed', { username: profile.username, role: profile.role, by: c.get('user').username });
      return c.json(profile);
    });
}
