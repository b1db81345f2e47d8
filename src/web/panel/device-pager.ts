import { h } from '../shared/dom.ts';
import { api, type DeviceInfo } from './api.ts';

/** A page of GET /api/devices, as a view shows it. */
export interface DevicePage {
  devices: DeviceInfo[];
  /** The search the page answers ('' for none). */
  q: string;
  /** The page's number, from 1. */
  number: number;
}

/** Fewer cameras than this on one page, and no search: the search box and page buttons stay hidden. */
const SEARCH_FROM = 12;

/**
 * Search and pages over the device listing, for fleets: the server pages (`limit`, `cursor`, `q`), so
 * a view renders one page at a time however many cameras there are. `show` gets each page as it
 * loads; a failed load goes to `failed`.
 */
export function devicePager(
  show: (page: DevicePage) => void,
  failed: (error: Error) => void,
  pageSize = 48,
): { el: HTMLElement; reload(): Promise<void> } {
  const search = h('input', {
    type: 'search',
    name: 'q',
    placeholder: 'Search by id or name',
    'aria-label': 'Search cameras',
    autocomplete: 'off',
    oninput: () => {
      clearTimeout(typing);
      typing = setTimeout(() => void go([null]), 250);
    },
  });
  const previous = h('button', { 'data-action': 'prev-page', onclick: () => void go(cursors.slice(0, -1)) }, '← Previous');
  const next = h('button', { 'data-action': 'next-page', onclick: () => void go([...cursors, nextCursor]) }, 'Next →');
  const where = h('span', { class: 'muted small', 'data-page': '' });
  const el = h('div', { class: 'row pager', hidden: true }, search, previous, where, next);

  let typing: ReturnType<typeof setTimeout> | undefined;
  /** The cursor each page up to the current one started at (null: the first page). */
  let cursors: (string | null)[] = [null];
  let nextCursor: string | null = null;
  /** Each load's number: a slower, older answer must not replace a newer one. */
  let latest = 0;

  async function go(at: (string | null)[]): Promise<void> {
    const mine = ++latest;
    const q = search.value.trim();
    const cursor = at.at(-1) ?? null;
    const query = new URLSearchParams({ limit: String(pageSize) });
    if (q) query.set('q', q);
    if (cursor) query.set('cursor', cursor);
    try {
      const page = await api<{ devices: DeviceInfo[]; next_cursor: string | null }>(`/api/devices?${query}`);
      if (mine !== latest) return;
      cursors = at.length > 0 ? at : [null];
      nextCursor = page.next_cursor;
      previous.disabled = cursors.length === 1;
      next.disabled = nextCursor === null;
      where.textContent = `Page ${cursors.length}`;
      el.hidden = cursors.length === 1 && nextCursor === null && q === '' && page.devices.length < SEARCH_FROM;
      show({ devices: page.devices, q, number: cursors.length });
    } catch (e) {
      if (mine === latest) failed(e as Error);
    }
  }

  return { el, reload: () => go(cursors) };
}
