import type { CameraState, StateEvent, StatusEvent } from '../../../client/index.ts';
import { h, mount, notify } from '../../shared/dom.ts';
import { api, type DeviceInfo, type KeyDescription, type Preset, stateSchema } from '../api.ts';
import { type Control, createControl } from '../controls.ts';
import { groupKeys } from '../groups.ts';
import { historyBox } from '../history-box.ts';
import { presetsBox } from '../presets-box.ts';
import { schedulesBox } from '../schedules.ts';
import { mayWrite } from '../session.ts';
import { type Watch, watch } from '../watch.ts';
import type { View, ViewContext } from './view.ts';

/**
 * One camera: its live video, record and snapshot buttons, a control for every state key, and below
 * them its presets, schedules and recent changes.
 */
export function devicePageView({ viewer, session, live }: ViewContext, deviceId: string): View {
  const title = h('h1', null, deviceId);
  const badge = h('span', { class: 'badge off' }, '…');
  const seq = h('span', { class: 'muted small' });
  const presence = h('div', { class: 'presence small' });
  const video = h('video', { autoplay: true, muted: true, playsinline: true });
  const videoNote = h('div', { class: 'video-note' }, 'Press Watch to see the live video.');
  const watchButton = h('button', { class: 'primary', 'data-action': 'watch', onclick: () => void toggleWatch() }, 'Watch');
  const recordButton = h('button', { 'data-key': 'record', onclick: () => void toggleRecord() }, 'Record');
  const snapButton = h(
    'button',
    {
      'data-key': 'snap',
      onclick: () =>
        void change('snap', true).then(
          () => notify('Snapshot requested', 'ok'),
          () => {},
        ),
    },
    'Snapshot',
  );
  const controlsBox = h('div', { class: 'controls' }, h('p', { class: 'muted' }, 'Loading controls…'));
  /** The keys this user may write, known once the schema has loaded: what a preset saves. */
  let writable: string[] = [];
  const savable = () => {
    const state = viewer.getState(deviceId)?.state ?? {};
    return Object.fromEntries(writable.filter((key) => key in state).map((key) => [key, state[key]]));
  };
  const presets = presetsBox(session, deviceId, savable);
  let presetList: Preset[] = [];
  const schedules = schedulesBox(deviceId, mayWrite(session.role, 'operator'), savable, () => presetList);
  const history = historyBox(deviceId);
  const el = h(
    'section',
    { class: 'device-page' },
    h(
      'div',
      { class: 'row heading' },
      h('a', { href: '#/', class: 'back', 'aria-label': 'All cameras' }, '←'),
      title,
      badge,
      seq,
    ),
    presence,
    h(
      'div',
      { class: 'layout' },
      h(
        'div',
        { class: 'stage' },
        h('div', { class: 'video' }, video, videoNote),
        h('div', { class: 'actions' }, watchButton, recordButton, snapButton),
      ),
      controlsBox,
    ),
    h('div', { class: 'extras-grid' }, presets.el, schedules.el, history.el),
  );

  const controls = new Map<string, Control>();
  let current: Watch | null = null;
  let disposed = false;
  const mayOperate = mayWrite(session.role, 'operator');
  recordButton.disabled = snapButton.disabled = !mayOperate;

  async function change(key: string, value: unknown): Promise<void> {
    try {
      await viewer.setState(deviceId, { [key]: value });
    } catch (e) {
      // A slider's last value goes out after its page is left; failing then (the viewer was closed by
      // a logout) is nothing to show on whatever page is up now.
      if (disposed) throw e;
      const err = e as Error & { detail?: string };
      notify(err.detail ? `${key}: ${err.detail}` : `${key}: ${err.message}`, 'error');
      // Put the control back to the value the server holds.
      const held = viewer.getState(deviceId)?.state[key];
      if (held !== undefined) controls.get(key)?.show(held);
      throw e;
    }
  }

  function showState(state: CameraState, keys: Iterable<string>): void {
    for (const key of keys) {
      controls.get(key)?.show(state[key]);
      if (key === 'record') showRecord(state.record);
    }
  }

  function showRecord(value: unknown): void {
    recordButton.textContent = value === 'on' ? '■ Stop recording' : value === 'pause' ? '● Resume recording' : '● Record';
    recordButton.classList.toggle('recording', value === 'on');
  }

  function showOnline(online: boolean, reported: Record<string, unknown> | null): void {
    badge.className = `badge ${online ? 'on' : 'off'}`;
    badge.textContent = online ? 'online' : 'offline';
    mount(presence, ...Object.entries(reported ?? {}).map(([k, v]) => h('span', null, `${k}: ${String(v)}`)));
  }

  async function toggleRecord(): Promise<void> {
    const now = viewer.getState(deviceId)?.state.record;
    await change('record', now === 'on' ? 'off' : 'on').catch(() => {});
  }

  async function toggleWatch(): Promise<void> {
    if (current) {
      const stopping = current;
      current = null;
      return stopping.stop();
    }
    watchButton.disabled = true;
    let ended = false;
    try {
      const started = await watch(viewer, deviceId, video, (status, detail) => {
        videoNote.hidden = status === 'live';
        videoNote.textContent =
          status === 'requesting' ? 'Asking the camera…' : status === 'connecting' ? 'Connecting…' : `Stopped: ${detail}.`;
        if (status === 'ended') {
          ended = true;
          current = null;
          watchButton.textContent = 'Watch';
        }
      });
      // The page may have been left, or the watch ended, while it was starting.
      if (disposed) return void started.stop();
      if (ended) return;
      current = started;
      watchButton.textContent = 'Stop';
    } catch (e) {
      videoNote.textContent = `Cannot watch: ${(e as Error).message}.`;
      notify(`Cannot watch: ${(e as Error).message}`, 'error');
    } finally {
      watchButton.disabled = false;
    }
  }

  const offs = [
    viewer.on('state', (e: StateEvent) => {
      if (e.device_id !== deviceId) return;
      seq.textContent = `state #${e.seq}`;
      if (!e.snapshot) history.reload();
      showState(e.state, e.snapshot ? Object.keys(e.state) : e.changed);
    }),
    viewer.on('status', (e: StatusEvent) => e.device_id === deviceId && showOnline(e.online, e.presence)),
  ];

  const buildControls = (keys: KeyDescription[]) => {
    writable = keys.filter((def) => def.type !== 'trigger' && mayWrite(session.role, def.write)).map((def) => def.key);
    mount(controlsBox);
    for (const group of groupKeys(keys)) {
      const box = h('fieldset', { class: 'group' }, h('legend', null, group.title));
      for (const def of group.keys) {
        const control = createControl(def, mayWrite(session.role, def.write), change);
        controls.set(def.key, control);
        box.append(control.el);
      }
      controlsBox.append(box);
    }
    const held = viewer.getState(deviceId);
    if (held) showState(held.state, Object.keys(held.state));
  };

  /** Gives the subscription back when the page goes (the socket's subscriptions are capped). */
  let release = () => {};

  Promise.all([api<DeviceInfo>(`/api/devices/${encodeURIComponent(deviceId)}`), stateSchema()])
    .then(async ([info, keys]) => {
      if (disposed) return;
      title.textContent = info.name === info.device_id ? info.name : `${info.name} (${info.device_id})`;
      showOnline(info.online, info.presence);
      buildControls(keys);
      history.reload();
      presetList = await presets.reload();
      await schedules.reload();
      const hold = live.hold([deviceId]);
      release = hold.release;
      const { not_found } = await hold.ready;
      if (disposed) return;
      if (not_found.length > 0) throw new Error('this camera does not exist, or you may not see it');
      const held = viewer.getState(deviceId);
      if (held) showState(held.state, Object.keys(held.state));
    })
    .catch((e: Error) => {
      mount(controlsBox, h('p', { class: 'error' }, `Cannot load this camera: ${e.message}`));
      watchButton.disabled = recordButton.disabled = snapButton.disabled = true;
    });

  return {
    el,
    dispose: () => {
      disposed = true;
      for (const off of offs) off();
      void current?.stop();
      release();
    },
  };
}
