import { h, mount, notify } from '../../shared/dom.ts';
import { api, type Preset, type Schedule } from '../api.ts';
import { scheduleRow } from '../schedules.ts';
import type { View } from './view.ts';

/** Every schedule, for admins: what runs where and when, and whether it ran. */
export function adminSchedulesView(): View {
  const list = h('ul', { class: 'schedules card', 'data-list': 'all-schedules' });
  const el = h(
    'section',
    null,
    h('h1', null, 'Schedules'),
    h('p', { class: 'muted' }, 'Create schedules on a camera’s page. Times are shown in this browser’s time zone.'),
    list,
  );

  async function load(): Promise<void> {
    try {
      const [{ schedules }, { presets }] = await Promise.all([
        api<{ schedules: Schedule[] }>('/api/schedules'),
        api<{ presets: Preset[] }>('/api/presets'),
      ]);
      mount(
        list,
        ...(schedules.length > 0
          ? schedules.map((s) => scheduleRow(s, presets, () => void load(), true))
          : [h('li', { class: 'muted' }, 'No schedules yet.')]),
      );
    } catch (e) {
      notify((e as Error).message, 'error');
    }
  }

  void load();
  return { el, dispose: () => {} };
}
