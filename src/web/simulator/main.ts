import { h, mount } from '../shared/dom.ts';
import { Answerer } from './answerer.ts';
import { DeviceLink, type Envelope } from './device-link.ts';
import { type State, TestPattern } from './pattern.ts';

/**
 * /simulator?device=<id>&key=<key>: this tab becomes that camera. It connects as the device, applies
 * the settings it is sent (visibly), reports what it applied, and streams its picture over WebRTC to
 * every viewer who presses Watch.
 */

const root = document.getElementById('app') as HTMLElement;
const CREDENTIALS = 'edgecam.simulator';

function credentials(): { device: string; key: string } | null {
  const params = new URLSearchParams(location.search);
  const device = params.get('device');
  const key = params.get('key');
  if (device && key) {
    // Keep the key out of the address bar (and screenshots, and history); a reload still finds it.
    sessionStorage.setItem(CREDENTIALS, JSON.stringify({ device, key }));
    history.replaceState(null, '', `${location.pathname}?device=${encodeURIComponent(device)}`);
    return { device, key };
  }
  let saved: { device: string; key: string } | null = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(CREDENTIALS) ?? 'null');
  } catch {
    // Unreadable: ask again.
  }
  return saved && typeof saved.key === 'string' && (!device || saved.device === device) ? saved : null;
}

function askForCredentials(): void {
  const form = h(
    'form',
    { class: 'card login', method: 'get' },
    h('h1', null, 'Camera simulator'),
    h(
      'p',
      { class: 'muted' },
      'Turn this tab into a camera. Register a device in the panel (Manage devices) to get its id and key.',
    ),
    h('label', null, 'Device id', h('input', { name: 'device', required: true, autocomplete: 'off' })),
    h('label', null, 'Device key', h('input', { name: 'key', required: true, autocomplete: 'off', class: 'mono' })),
    h('button', { type: 'submit', class: 'primary' }, 'Start'),
  );
  mount(root, h('div', { class: 'center' }, form));
}

function run(device: string, key: string): void {
  const pattern = new TestPattern();
  let state: State = {};
  const status = h('span', { class: 'badge off' }, 'starting');
  const settingsTable = h('tbody');
  const sessionsList = h('ul', { class: 'sessions' });
  const log = h('ol', { class: 'log mono small' });
  const note = (text: string) => {
    log.prepend(h('li', null, `${new Date().toLocaleTimeString()} ${text}`));
    while (log.children.length > 50) log.lastChild?.remove();
  };

  const link = new DeviceLink(device, key, {
    status: (text, kind) => {
      status.textContent = text;
      status.className = `badge ${kind === 'ok' ? 'on' : kind === 'error' ? 'rec' : 'off'}`;
      note(text);
    },
    message: (m) => handle(m),
    down: () => answerer.closeAll(),
  });
  const answerer = new Answerer(
    pattern.stream,
    (type, payload) => link.send(type, payload),
    (sessions) => {
      mount(sessionsList, ...sessions.map((s) => h('li', null, `${s.viewer} — ${s.state}`)));
      if (sessions.length === 0) mount(sessionsList, h('li', { class: 'muted' }, 'nobody is watching'));
    },
  );

  function apply(changes: State, snapshot: boolean): void {
    state = snapshot ? { ...changes } : { ...state, ...changes };
    pattern.apply(state);
    mount(
      settingsTable,
      ...Object.keys(state)
        .sort()
        .map((k) =>
          h(
            'tr',
            { 'data-setting': k, class: k in changes && !snapshot ? 'changed' : null },
            h('td', null, k),
            h('td', null, String(state[k])),
          ),
        ),
    );
  }

  function handle(m: Envelope): void {
    const p = m.payload;
    const requestId = m.request_id ?? (typeof p.request_id === 'string' ? p.request_id : undefined);
    switch (m.type) {
      case 'hello_ack': {
        // What this "hardware" has: reported to the server, and shown here (reports are not echoed back).
        const detected = { 'cam1-exists': true, 'cam2-exists': false };
        link.send('status', { state: detected });
        apply(detected, false);
        link.send('device_presence', { simulator: true });
        return;
      }
      case 'settings':
        if (typeof p.settings !== 'object' || p.settings === null) return;
        apply(p.settings as State, p.snapshot === true);
        note(p.snapshot ? 'received the full settings' : `applied ${Object.keys(p.settings as State).join(', ')}`);
        // A reply carries the request's id at the envelope level, where the server matches it.
        if (requestId) link.send('status', { success: true, message: 'applied' }, requestId);
        return;
      case 'command':
        if (p.command === 'snap') pattern.snapshot();
        note(`command ${String(p.command)}`);
        link.send(
          'status',
          {
            success: p.command === 'snap',
            message: p.command === 'snap' ? 'snapshot taken' : `unknown command ${String(p.command)}`,
          },
          requestId,
        );
        return;
      case 'watch_request':
        note(`${String(p.user_id)} wants to watch`);
        return answerer.open(String(p.session_id), String(p.user_id), (p.ice_servers as RTCIceServer[]) ?? []);
      case 'signal_offer':
        return void answerer.offer(String(p.session_id), p.sdp as RTCSessionDescriptionInit);
      case 'signal_ice':
        return answerer.ice(String(p.session_id), (p.candidate as RTCIceCandidateInit | null) ?? null);
      case 'watch_ended':
        note(`session ended: ${String(p.reason)}`);
        return answerer.close(String(p.session_id));
      case 'error':
        note(`server: ${String(p.message)}`);
        return;
    }
  }

  const webcam = h(
    'button',
    {
      type: 'button',
      onclick: () =>
        pattern.useWebcam().then(
          () => {
            webcam.disabled = true;
            note('using the webcam');
          },
          (e: Error) => note(`no webcam: ${e.message}`),
        ),
    },
    'Use my webcam',
  );
  mount(
    root,
    h(
      'header',
      { class: 'top' },
      h('span', { class: 'brand' }, 'edgecam simulator'),
      h('div', { class: 'who' }, h('strong', null, device), status),
    ),
    h(
      'main',
      { class: 'layout simulator' },
      h(
        'div',
        { class: 'stage' },
        h('div', { class: 'video' }, pattern.canvas),
        h('div', { class: 'actions' }, webcam, h('a', { href: '/', target: '_blank', rel: 'noopener' }, 'Open the panel')),
      ),
      h(
        'div',
        { class: 'controls' },
        h('fieldset', { class: 'group' }, h('legend', null, 'Watching'), sessionsList),
        h(
          'fieldset',
          { class: 'group' },
          h('legend', null, 'Settings applied'),
          h('table', { class: 'settings' }, settingsTable),
        ),
        h('fieldset', { class: 'group' }, h('legend', null, 'Log'), log),
      ),
    ),
  );
  mount(sessionsList, h('li', { class: 'muted' }, 'nobody is watching'));
  link.start();
  window.addEventListener('pagehide', () => link.stop());
}

const found = credentials();
if (found) run(found.device, found.key);
else askForCredentials();
