import { ago, h, mount, notify } from '../../shared/dom.ts';
import { api, type DeviceInfo } from '../api.ts';
import { devicePager } from '../device-pager.ts';
import { deviceHref } from '../router.ts';
import type { View } from './view.ts';

/** Register devices (the key is shown once, with the agent's command line) and remove them. */
export function adminDevicesView(): View {
  const list = h('tbody');
  const pager = devicePager(
    ({ devices, q }) => {
      const none = q ? `No devices match “${q}”.` : 'No devices registered yet.';
      if (devices.length === 0) mount(list, h('tr', null, h('td', { colspan: 3, class: 'muted' }, none)));
      else mount(list, ...devices.map(row));
    },
    (e) => notify(e.message, 'error'),
  );
  const load = () => pager.reload();
  const reveal = h('div', { class: 'reveal', hidden: true });
  const form = h(
    'form',
    { class: 'card inline-form', onsubmit: (e) => void register(e) },
    h('h2', null, 'Register a camera'),
    h(
      'label',
      null,
      'Device id',
      h('input', {
        name: 'device_id',
        required: true,
        pattern: '[A-Za-z0-9._\\-]{1,64}',
        placeholder: 'kitchen-cam',
        autocomplete: 'off',
      }),
    ),
    h('label', null, 'Name', h('input', { name: 'name', placeholder: 'Kitchen', autocomplete: 'off' })),
    h('button', { type: 'submit', class: 'primary' }, 'Register'),
  );
  const el = h(
    'section',
    null,
    h('h1', null, 'Manage devices'),
    form,
    reveal,
    pager.el,
    h(
      'div',
      { class: 'card table' },
      h(
        'table',
        null,
        h('thead', null, h('tr', null, h('th', null, 'Device'), h('th', null, 'Status'), h('th', null, ''))),
        list,
      ),
    ),
  );

  function row(d: DeviceInfo): HTMLElement {
    return h(
      'tr',
      { 'data-device-row': d.device_id },
      h('td', null, h('a', { href: deviceHref(d.device_id) }, d.name), h('div', { class: 'muted small' }, d.device_id)),
      h('td', null, d.online ? 'online' : `offline, last seen ${ago(d.last_seen)}`),
      h('td', { class: 'end' }, h('button', { class: 'danger', onclick: () => void remove(d) }, 'Remove')),
    );
  }

  async function register(event: Event): Promise<void> {
    event.preventDefault();
    const data = new FormData(form);
    const deviceId = String(data.get('device_id')).trim();
    const name = String(data.get('name') ?? '').trim();
    try {
      const created = await api<{ device_id: string; name: string; key: string }>('/api/devices', {
        method: 'POST',
        body: { device_id: deviceId, ...(name ? { name } : {}) },
      });
      form.reset();
      showKey(created.device_id, created.key);
      await load();
    } catch (e) {
      notify((e as Error).message, 'error');
    }
  }

  function showKey(deviceId: string, key: string): void {
    const id = encodeURIComponent(deviceId);
    const command = `npm run agent -- --server ${location.origin} --device ${deviceId} --key ${key}`;
    const simulator = `${location.origin}/simulator?device=${id}&key=${encodeURIComponent(key)}`;
    mount(
      reveal,
      h('h2', null, `${deviceId} is registered`),
      h('p', null, h('strong', null, 'Copy the key now: it is shown only this once.'), ' The server keeps only a hash of it.'),
      copyable('Device key', key, 'device-key'),
      copyable('Start the agent on the camera (in a clone of edgecam)', command, 'agent-command'),
      h(
        'p',
        null,
        'No camera at hand? ',
        h('a', { href: simulator, target: '_blank', rel: 'noopener' }, 'Open the simulator'),
        ' in a new window: it turns that tab into this camera.',
      ),
      h('button', { class: 'plain', onclick: () => (reveal.hidden = true) }, 'Done'),
    );
    reveal.hidden = false;
  }

  async function remove(d: DeviceInfo): Promise<void> {
    if (!confirm(`Remove ${d.name} (${d.device_id})? Its agent is disconnected and its key stops working.`)) return;
    try {
      await api(`/api/devices/${encodeURIComponent(d.device_id)}`, { method: 'DELETE' });
      notify(`${d.device_id} removed`, 'ok');
      await load();
    } catch (e) {
      notify((e as Error).message, 'error');
    }
  }

  void load();
  return { el, dispose: () => {} };
}

/** A read-only field with a Copy button. */
export function copyable(label: string, value: string, name: string): HTMLElement {
  const field = h('input', { readonly: true, value, name, class: 'mono', onfocus: () => field.select() });
  const button = h(
    'button',
    {
      type: 'button',
      onclick: () =>
        navigator.clipboard
          .writeText(value)
          .then(() => notify('Copied', 'ok'))
          .catch(() => {
            field.select();
            notify('Press Ctrl+C (or ⌘C) to copy', 'info');
          }),
    },
    'Copy',
  );
  return h('label', { class: 'copy' }, label, h('div', { class: 'row' }, field, button));
}
