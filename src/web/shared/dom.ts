/** A few lines instead of a framework: build elements, show notices. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** `h('button', {class: 'primary', onclick: go}, 'Go')`. `on*` are listeners; false/null attributes are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  el.append(...nodes(children));
  return el;
}

function nodes(children: Child[]): Array<Node | string> {
  const out: Array<Node | string> = [];
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    out.push(typeof child === 'number' ? String(child) : child);
  }
  return out;
}

/** Replaces the children of `parent`. */
export function mount(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...nodes(children));
}

/** A notice in the corner: errors stay until closed or 8 s, others 3 s. Screen readers hear them (role). */
export function notify(message: string, kind: 'error' | 'ok' | 'info' = 'info'): void {
  let region = document.getElementById('notices');
  if (!region) {
    region = h('div', { id: 'notices', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const notice = h(
    'div',
    { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', null, message),
    h('button', { class: 'plain', 'aria-label': 'Dismiss', onclick: () => notice.remove() }, '×'),
  );
  region.append(notice);
  setTimeout(() => notice.remove(), kind === 'error' ? 8000 : 3000);
}

/** "12 s ago", "3 min ago", or the date. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleString();
}
