import type { StateEvent, StatusEvent } from '../../../client/index.ts';
import { ago, h, mount, notify } from '../../shared/dom.ts';
import type { DeviceInfo } from '../api.ts';
import { type DevicePage, devicePager } from '../device-pager.ts';
import { deviceHref } from '../router.ts';
import type { View, ViewContext } from './view.ts';

/** The cameras this user may see, each with live online/offline, presence and recording state. */
export function deviceListView({ viewer, session, live }: ViewContext): View {
  const grid = h('div', { class: 'grid' }, h('p', { class: 'muted' }, 'Loading cameras…'));
  const el = h('section', null, h('h1', null, 'Cameras'), grid);
  const cards = new Map<string, { info: DeviceInfo; card: HTMLElement }>();

  const render = (id: string) => {
    const entry = cards.get(id);
    if (!entry) return;
    const { info, card } = entry;
    const recording = viewer.getState(id)?.state.record === 'on';
    card.classList.toggle('online', info.online);
    mount(
      card,
      h(
        'div',
        { class: 'row' },
        h('strong', null, info.name),
        recording && h('span', { class: 'badge rec' }, 'REC'),
        h('span', { class: `badge ${info.online ? 'on' : 'off'}` }, info.online ? 'online' : 'offline'),
      ),
      h(
        'div',
        { class: 'muted small' },
        info.device_id,
        ' · ',
        info.online ? 'connected' : info.last_seen ? `last seen ${ago(info.last_seen)}` : 'never connected',
      ),
      info.presence &&
        h(
          'div',
          { class: 'presence small' },
          ...Object.entries(info.presence).map(([k, v]) => h('span', null, `${k}: ${String(v)}`)),
        ),
    );
  };

  const onStatus = (e: StatusEvent) => {
    const entry = cards.get(e.device_id);
    if (!entry) return;
    // Going offline just now is when it was last seen; a device that stays offline keeps its time.
    const wentOffline = entry.info.online && !e.online;
    entry.info = {
      ...entry.info,
      online: e.online,
      presence: e.presence,
      last_seen: wentOffline ? new Date().toISOString() : entry.info.last_seen,
    };
    render(e.device_id);
  };
  const onState = (e: StateEvent) => {
    if (e.changed.includes('record')) render(e.device_id);
  };
  const offs = [viewer.on('status', onStatus), viewer.on('state', onState)];
  const tick = setInterval(() => {
    for (const id of cards.keys()) if (!cards.get(id)?.info.online) render(id);
  }, 15_000);
  /** Gives back what this view subscribed to when it goes (the socket's subscriptions are capped). */
  let release = () => {};
  let disposed = false;
  /** Counts pages shown: a page left before the socket said its cap subscribes to nothing. */
  let shown = 0;

  const showPage = ({ devices, q }: DevicePage) => {
    if (disposed) return;
    const page = ++shown;
    release();
    release = () => {};
    cards.clear();
    devices.sort((a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name));
    if (devices.length === 0) {
      mount(grid, h('p', { class: 'muted' }, q ? `No cameras match “${q}”.` : noCameras()));
      return;
    }
    mount(grid);
    for (const info of devices) {
      const card = h('a', { class: 'card device', href: deviceHref(info.device_id), 'data-device-id': info.device_id });
      cards.set(info.device_id, { info, card });
      grid.append(card);
      render(info.device_id);
    }
    // Live updates are extra: if they fail the cards stay, with a note. Only this page is followed;
    // past the socket's cap, its first cameras are live and the rest as loaded.
    void live.capacity().then((capacity) => {
      if (disposed || page !== shown) return;
      const held = live.hold(devices.slice(0, capacity).map((d) => d.device_id));
      release = held.release;
      held.ready.catch((e: Error) => notify(`Live updates are off: ${e.message}`, 'error'));
    });
  };
  const noCameras = () =>
    session.role === 'admin'
      ? h(
          'span',
          null,
          'No cameras yet. ',
          h('a', { href: '#/admin/devices' }, 'Register one'),
          ', then start its agent or the simulator.',
        )
      : 'No cameras yet. Ask an admin to register one, or to give you access to one.';
  const pager = devicePager(showPage, (e) => {
    mount(grid, h('p', { class: 'error' }, `Cannot load the cameras: ${e.message}`));
    notify(e.message, 'error');
  });
  el.insertBefore(pager.el, grid);
  void pager.reload();

  return {
    el,
    dispose: () => {
      disposed = true;
      for (const off of offs) off();
      clearInterval(tick);
      release();
    },
  };
}
