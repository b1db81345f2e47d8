import { h, mount } from '../shared/dom.ts';
import { api, type HistoryEntry } from './api.ts';

/** A camera's recent changes: "brightness 50 → 20 by alice via the panel, 18:02", newest first. */

const VIA: Record<string, string> = {
  http: 'the HTTP API',
  api_v1: '/api/v1',
  viewer: 'the panel',
  camera: '/ws/camera',
  device: 'the camera',
  preset: 'a preset',
  schedule: 'a schedule',
};

const SHOWN = 20;

export function historyBox(deviceId: string): { el: HTMLElement; reload(): void } {
  const list = h('ol', { class: 'history', 'data-list': 'history' });
  const el = h('section', { class: 'card extras', 'data-box': 'history' }, h('h2', null, 'Recent changes'), list);
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function load(): Promise<void> {
    try {
      // One more than shown, for the value before the oldest shown change.
      const { changes } = await api<{ changes: HistoryEntry[] }>(
        `/api/devices/${encodeURIComponent(deviceId)}/history?limit=${SHOWN * 2}`,
      );
      const lines = changes.slice(0, SHOWN).map((entry, i) => line(entry, changes.slice(i + 1)));
      mount(list, ...(lines.length > 0 ? lines : [h('li', { class: 'muted' }, 'No changes yet.')]));
    } catch (e) {
      mount(list, h('li', { class: 'error' }, `Cannot load the history: ${(e as Error).message}`));
    }
  }

  return {
    el,
    // Many changes in a burst (a slider) reload once.
    reload: () => {
      clearTimeout(timer);
      timer = setTimeout(() => void load(), 300);
    },
  };
}

/** One change, with each key's value before it when an older entry shows it. */
function line(entry: HistoryEntry, older: HistoryEntry[]): HTMLElement {
  const parts = Object.entries(entry.changes).map(([key, value]) => {
    const before = older.find((o) => key in o.changes)?.changes[key];
    return before === undefined ? `${key} → ${show(value)}` : `${key} ${show(before)} → ${show(value)}`;
  });
  const who = entry.by.startsWith('schedule:') ? 'a schedule' : entry.by === 'device' ? 'the camera' : entry.by;
  const via = entry.via === 'schedule' || entry.via === 'device' ? '' : ` via ${VIA[entry.via] ?? entry.via}`;
  const time = new Date(entry.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return h(
    'li',
    { 'data-seq': entry.seq },
    h('span', null, parts.join(', ')),
    h('span', { class: 'muted small' }, ` by ${who}${via}, ${time}`),
  );
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
