import { h, mount, notify } from '../../shared/dom.ts';
import { api, type UserInfo } from '../api.ts';
import type { View, ViewContext } from './view.ts';

/** Create and delete users; roles and per-user device allow-lists. */
export function adminUsersView({ session }: ViewContext): View {
  const list = h('tbody');
  const form = h(
    'form',
    { class: 'card inline-form', onsubmit: (e) => void create(e) },
    h('h2', null, 'Add a user'),
    h(
      'label',
      null,
      'Username',
      h('input', { name: 'new-username', required: true, pattern: '[A-Za-z0-9._@\\-]{1,64}', autocomplete: 'off' }),
    ),
    h(
      'label',
      null,
      'Password',
      h('input', { name: 'new-password', type: 'password', required: true, minlength: 8, autocomplete: 'new-password' }),
    ),
    h(
      'label',
      null,
      'Role',
      h(
        'select',
        { name: 'role' },
        h('option', { value: 'viewer' }, 'viewer: watch and read'),
        h('option', { value: 'operator', selected: true }, 'operator: also change settings'),
        h('option', { value: 'admin' }, 'admin: also manage users and devices'),
      ),
    ),
    h(
      'label',
      null,
      'Cameras (optional)',
      h('input', { name: 'devices', placeholder: 'all, or: kitchen-cam, porch-cam', autocomplete: 'off' }),
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Add user'),
  );
  const el = h(
    'section',
    null,
    h('h1', null, 'Users'),
    form,
    h(
      'div',
      { class: 'card table' },
      h(
        'table',
        null,
        h(
          'thead',
          null,
          h('tr', null, h('th', null, 'User'), h('th', null, 'Role'), h('th', null, 'Cameras'), h('th', null, '')),
        ),
        list,
      ),
    ),
  );

  async function load(): Promise<void> {
    try {
      const { users } = await api<{ users: UserInfo[] }>('/api/users');
      mount(list, ...users.map(row));
    } catch (e) {
      notify((e as Error).message, 'error');
    }
  }

  function row(u: UserInfo): HTMLElement {
    const self = u.username === session.username;
    return h(
      'tr',
      { 'data-username': u.username },
      h('td', null, u.username, self && h('span', { class: 'muted small' }, ' (you)')),
      h('td', null, u.role),
      h('td', null, u.devices === null ? 'all' : u.devices.join(', ') || 'none'),
      h('td', { class: 'end' }, !self && h('button', { class: 'danger', onclick: () => void remove(u) }, 'Delete')),
    );
  }

  async function create(event: Event): Promise<void> {
    event.preventDefault();
    const data = new FormData(form);
    const devices = String(data.get('devices') ?? '')
      .split(/[\s,]+/)
      .filter(Boolean);
    try {
      await api('/api/users', {
        method: 'POST',
        body: {
          username: String(data.get('new-username')).trim(),
          password: String(data.get('new-password')),
          role: String(data.get('role')),
          ...(devices.length > 0 && devices[0] !== 'all' ? { devices } : {}),
        },
      });
      notify(`User ${String(data.get('new-username'))} added`, 'ok');
      form.reset();
      await load();
    } catch (e) {
      notify((e as Error).message, 'error');
    }
  }

  async function remove(u: UserInfo): Promise<void> {
    if (!confirm(`Delete ${u.username}? Their open connections are closed.`)) return;
    try {
      await api(`/api/users/${encodeURIComponent(u.username)}`, { method: 'DELETE' });
      notify(`${u.username} deleted`, 'ok');
      await load();
    } catch (e) {
      notify((e as Error).message, 'error');
    }
  }

  void load();
  return { el, dispose: () => {} };
}
