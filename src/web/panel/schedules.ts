import type { CameraState } from '../../client/index.ts';
import { h, mount, notify } from '../shared/dom.ts';
import { api, type Preset, type Schedule } from './api.ts';
import { describe, STILL_LOADING } from './presets-box.ts';

/** Schedules in the panel: a camera's own list and form, and the rows the admin page lists too. */

const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
/** A run's time as people read it: "8 Dec 2026, 17:30", in this browser's zone. */
const shortTime = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });

/** "every day 07:00 (cron 0 7 * * *, Europe/Berlin)" is too clever: the expression is shown as written. */
function when(s: Schedule): string {
  return s.cron !== undefined ? `cron ${s.cron} (${s.timezone})` : `once at ${shortTime(s.at ?? '')}`;
}

/** One schedule: what, when, its next runs, its last run, enable/disable and delete. */
export function scheduleRow(s: Schedule, presets: Preset[], changed: () => void, showDevices = false): HTMLElement {
  const what =
    s.preset_id !== undefined ? (presets.find((p) => p.id === s.preset_id)?.name ?? 'a preset') : JSON.stringify(s.values);
  const toggle = h('input', {
    type: 'checkbox',
    checked: s.enabled,
    'data-action': 'toggle-schedule',
    'aria-label': 'Enabled',
    onchange: () => void patch(s.id, { enabled: toggle.checked }, changed),
  });
  const last = s.last_run
    ? `last ran ${shortTime(s.last_run.at)}: ${Object.entries(s.last_run.results)
        .map(([id, r]) => `${id} ${describe(r)}`)
        .join('; ')}`
    : 'has not run yet';
  return h(
    'li',
    { class: 'schedule', 'data-schedule': s.id },
    h('div', null, h('strong', null, s.name ?? what), s.name ? h('span', { class: 'muted small' }, ` · ${what}`) : null),
    h('div', { class: 'small' }, when(s), showDevices ? ` · ${s.devices.join(', ')}` : ''),
    h(
      'div',
      { class: 'small', 'data-list': 'next-runs' },
      s.next_runs.length > 0 ? `next: ${s.next_runs.map(shortTime).join(' · ')}` : 'no runs ahead',
    ),
    h('div', { class: 'muted small' }, last),
    h(
      'div',
      { class: 'row' },
      h('label', { class: 'check' }, toggle, 'enabled'),
      h('button', { class: 'danger', 'data-action': 'delete-schedule', onclick: () => void remove(s, changed) }, 'Delete'),
    ),
  );
}

async function patch(id: string, change: Record<string, unknown>, changed: () => void): Promise<void> {
  try {
    await api(`/api/schedules/${encodeURIComponent(id)}`, { method: 'PATCH', body: change });
  } catch (e) {
    notify((e as Error).message, 'error');
  }
  changed();
}

async function remove(s: Schedule, changed: () => void): Promise<void> {
  if (!confirm(`Delete the schedule ${s.name ?? s.id}?`)) return;
  try {
    await api(`/api/schedules/${encodeURIComponent(s.id)}`, { method: 'DELETE' });
  } catch (e) {
    notify((e as Error).message, 'error');
  }
  changed();
}

/** A camera's schedules and a form for a new one: a preset or the current settings, by cron or once. */
export function schedulesBox(
  deviceId: string,
  mayOperate: boolean,
  savable: () => CameraState,
  presets: () => Preset[],
): { el: HTMLElement; reload(): Promise<void> } {
  const list = h('ul', { class: 'schedules', 'data-list': 'schedules' });
  const what = h('select', { name: 'what', 'aria-label': 'What to apply' });
  const kind = h(
    'select',
    { name: 'kind', 'aria-label': 'When', onchange: () => showKind() },
    h('option', { value: 'cron' }, 'repeatedly (cron)'),
    h('option', { value: 'at' }, 'once'),
  );
  const cron = h('input', { name: 'cron', placeholder: '0 7 * * *', autocomplete: 'off', class: 'mono' });
  const at = h('input', { name: 'at', type: 'datetime-local' });
  const zone = h('input', { name: 'timezone', value: localZone, autocomplete: 'off' });
  const name = h('input', { name: 'schedule-name', placeholder: 'Morning', maxlength: 64, autocomplete: 'off' });
  const form = h(
    'form',
    { class: 'row wrap', 'data-form': 'new-schedule', onsubmit: (e) => void create(e) },
    name,
    what,
    kind,
    cron,
    at,
    zone,
    h('button', { type: 'submit' }, 'Add schedule'),
  );
  const el = h(
    'section',
    { class: 'card extras', 'data-box': 'schedules' },
    h('h2', null, 'Schedules'),
    list,
    form,
    h('p', { class: 'muted small' }, 'Cron: minute hour day month weekday, or six fields with seconds first.'),
  );
  form.hidden = !mayOperate;

  function showKind(): void {
    cron.hidden = zone.hidden = kind.value !== 'cron';
    at.hidden = kind.value !== 'at';
  }

  /** Each reload's number: an older one that answers late must not show its stale list. */
  let latest = 0;

  async function reload(): Promise<void> {
    const mine = ++latest;
    const all = presets();
    mount(
      what,
      h('option', { value: '' }, 'the current settings'),
      ...all.map((p) => h('option', { value: p.id }, `preset: ${p.name}`)),
    );
    try {
      const { schedules } = await api<{ schedules: Schedule[] }>('/api/schedules');
      if (mine !== latest) return;
      const here = schedules.filter((s) => s.devices.includes(deviceId));
      mount(
        list,
        ...(here.length > 0 ? here.map((s) => scheduleRow(s, all, () => void reload())) : [h('li', { class: 'muted' }, 'None.')]),
      );
    } catch (e) {
      if (mine === latest) mount(list, h('li', { class: 'error' }, `Cannot load the schedules: ${(e as Error).message}`));
    }
  }

  async function create(event: Event): Promise<void> {
    event.preventDefault();
    const values = what.value ? {} : savable();
    if (!what.value && Object.keys(values).length === 0) return notify(STILL_LOADING, 'info');
    const body: Record<string, unknown> = {
      devices: [deviceId],
      ...(name.value.trim() ? { name: name.value.trim() } : {}),
      ...(what.value ? { preset_id: what.value } : { values }),
    };
    if (kind.value === 'cron') Object.assign(body, { cron: cron.value.trim(), timezone: zone.value.trim() || 'UTC' });
    else if (!at.value) return notify('Choose when', 'info');
    else body.at = new Date(at.value).toISOString();
    try {
      await api('/api/schedules', { method: 'POST', body });
      form.reset();
      zone.value = localZone;
      showKind();
      await reload();
    } catch (e) {
      notify((e as Error).message, 'error');
    }
  }

  showKind();
  return { el, reload };
}
