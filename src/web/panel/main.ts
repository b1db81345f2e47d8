import { EdgecamViewer } from '../../client/index.ts';
import { h, mount, notify } from '../shared/dom.ts';
import { useToken } from './api.ts';
import { LiveDevices } from './live.ts';
import { parseRoute, type Route } from './router.ts';
import { clearSession, loadSession, SESSION_KEY, type Session } from './session.ts';
import { adminDevicesView } from './views/admin-devices.ts';
import { adminSchedulesView } from './views/admin-schedules.ts';
import { adminUsersView } from './views/admin-users.ts';
import { deviceListView } from './views/device-list.ts';
import { devicePageView } from './views/device-page.ts';
import { loginView } from './views/login.ts';
import type { View, ViewContext } from './views/view.ts';

/**
 * The control panel: one viewer socket per tab (the SDK reconnects and catches up by itself), one view
 * at a time, chosen by the URL's #fragment so that the server only ever serves index.html.
 */

const root = document.getElementById('app') as HTMLElement;
let session: Session | null = null;
let viewer: EdgecamViewer | null = null;
let live: LiveDevices | null = null;
let current: View | null = null;
const link = h('span', { class: 'link', title: 'Connection to the server' }, 'connecting…');

function start(): void {
  session = loadSession();
  if (!session) return showLogin();
  useToken(session.token, () => logout('Your session has expired: please log in again.'));
  viewer = new EdgecamViewer({ url: location.origin, token: session.token });
  live = new LiveDevices(viewer);
  viewer.on('open', () => setLink('online', 'live'));
  viewer.on('close', (e) => setLink('offline', e.reconnecting ? 'reconnecting…' : 'disconnected'));
  viewer.on('error', (e) => {
    if (e.code === 'invalid_token') logout('Your session has expired: please log in again.');
    else if (e.code === 'not_allowed') notify(`${e.message}. Close some tabs and reload.`, 'error');
  });
  render();
}

function setLink(state: 'online' | 'offline', text: string): void {
  link.className = `link ${state}`;
  link.textContent = text;
}

function showLogin(): void {
  current?.dispose();
  current = loginView(start);
  mount(root, current.el);
}

function logout(message?: string): void {
  clearSession();
  useToken(null, () => {});
  viewer?.close();
  viewer = null;
  live = null;
  session = null;
  if (message) notify(message, 'info');
  showLogin();
}

function viewFor(route: Route, ctx: ViewContext): View {
  switch (route.name) {
    case 'device':
      return devicePageView(ctx, route.id);
    case 'users':
      return adminUsersView(ctx);
    case 'admin-devices':
      return adminDevicesView();
    case 'admin-schedules':
      return adminSchedulesView();
    default:
      return deviceListView(ctx);
  }
}

function render(): void {
  if (!session || !viewer || !live) return showLogin();
  const route = parseRoute(location.hash);
  current?.dispose();
  current = viewFor(route, { viewer, session, live });
  const admin = session.role === 'admin';
  const nav = (href: string, label: string, active: boolean) =>
    h('a', { href, class: active ? 'active' : null, 'aria-current': active ? 'page' : null }, label);
  mount(
    root,
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: '#/' }, 'edgecam'),
      h(
        'nav',
        null,
        nav('#/', 'Cameras', route.name === 'devices' || route.name === 'device'),
        admin && nav('#/admin/devices', 'Manage devices', route.name === 'admin-devices'),
        admin && nav('#/admin/users', 'Users', route.name === 'users'),
        admin && nav('#/admin/schedules', 'Schedules', route.name === 'admin-schedules'),
      ),
      h(
        'div',
        { class: 'who' },
        link,
        h('span', { class: 'user', title: session.role }, session.username),
        h('button', { class: 'plain', onclick: () => logout() }, 'Log out'),
      ),
    ),
    h('main', null, current.el),
  );
}

window.addEventListener('hashchange', render);
// Logging out in one tab logs out every tab.
window.addEventListener('storage', (e) => {
  if (e.key === SESSION_KEY && !e.newValue && session) logout();
});
start();
