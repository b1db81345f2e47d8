import type { CameraState } from '../../client/index.ts';
import { h, mount, notify } from '../shared/dom.ts';
import { api, type DeviceInfo, type DeviceResult, type Preset } from './api.ts';
import type { Session } from './session.ts';

/** What saving "the current settings" says before the camera's settings and schema have loaded. */
export const STILL_LOADING = "The camera's settings are still loading: try again in a moment.";

/**
 * A camera's presets: pick one and apply it (here, or to several cameras), save the current settings
 * as a new one, delete one. Shared presets are listed with the camera's own; only admins change them.
 */
export function presetsBox(
  session: Session,
  deviceId: string,
  /** The current values of the keys this user may write: what "save" keeps. */
  savable: () => CameraState,
): { el: HTMLElement; reload(): Promise<Preset[]> } {
  const picker = h('select', { name: 'preset', 'aria-label': 'Preset' });
  const applyButton = h('button', { class: 'primary', 'data-action': 'apply-preset', onclick: () => void applyHere() }, 'Apply');
  const applyToButton = h('button', { 'data-action': 'apply-to', onclick: () => void openApplyTo() }, 'Apply to…');
  const deleteButton = h('button', { class: 'danger', 'data-action': 'delete-preset', onclick: () => void remove() }, 'Delete');
  const nameInput = h('input', { name: 'preset-name', placeholder: 'Night', required: true, maxlength: 64, autocomplete: 'off' });
  const sharedBox = h('input', { type: 'checkbox', name: 'shared' });
  const saveForm = h(
    'form',
    { class: 'row wrap', 'data-form': 'save-preset', onsubmit: (e) => void save(e) },
    nameInput,
    session.role === 'admin' && h('label', { class: 'check' }, sharedBox, 'shared'),
    h('button', { type: 'submit' }, 'Save current settings'),
  );
  const dialog = h('dialog', { 'data-dialog': 'apply-to' });
  const el = h(
    'section',
    { class: 'card extras', 'data-box': 'presets' },
    h('h2', null, 'Presets'),
    h('div', { class: 'row wrap' }, picker, applyButton, applyToButton, deleteButton),
    saveForm,
    dialog,
  );
  const mayOperate = session.role !== 'viewer';
  saveForm.hidden = !mayOperate;
  let presets: Preset[] = [];

  const selected = () => presets.find((p) => p.id === picker.value);
  const mayChange = (p: Preset | undefined) =>
    p !== undefined && (p.device_id === undefined ? session.role === 'admin' : mayOperate);
  const updateButtons = () => {
    const preset = selected();
    applyButton.disabled = applyToButton.disabled = !preset || !mayOperate;
    deleteButton.disabled = !mayChange(preset);
  };
  picker.addEventListener('change', updateButtons);

  /** Each reload's number: an older one that answers late must not show its stale list. */
  let latest = 0;

  async function reload(): Promise<Preset[]> {
    const mine = ++latest;
    const keep = picker.value;
    const loaded = (await api<{ presets: Preset[] }>(`/api/presets?device=${encodeURIComponent(deviceId)}`)).presets;
    if (mine !== latest) return presets;
    presets = loaded;
    const own = presets.filter((p) => p.device_id !== undefined);
    const shared = presets.filter((p) => p.device_id === undefined);
    const option = (p: Preset) => h('option', { value: p.id, selected: p.id === keep }, p.name);
    mount(
      picker,
      presets.length === 0 && h('option', { value: '' }, 'No presets yet'),
      own.length > 0 && h('optgroup', { label: 'This camera' }, ...own.map(option)),
      shared.length > 0 && h('optgroup', { label: 'Shared' }, ...shared.map(option)),
    );
    updateButtons();
    return presets;
  }

  async function apply(preset: Preset, devices: string[]): Promise<Record<string, DeviceResult>> {
    const { results } = await api<{ results: Record<string, DeviceResult> }>(
      `/api/presets/${encodeURIComponent(preset.id)}/apply`,
      { method: 'POST', body: { devices } },
    );
    return results;
  }

  async function applyHere(): Promise<void> {
    const preset = selected();
    if (!preset) return;
    try {
      const result = (await apply(preset, [deviceId]))[deviceId];
      if (result?.ok) notify(`${preset.name} applied`, 'ok');
      else notify(`${preset.name}: ${describe(result)}`, 'error');
    } catch (e) {
      notify((e as Error).message, 'error');
    }
  }

  async function openApplyTo(): Promise<void> {
    const preset = selected();
    if (!preset) return;
    let devices: DeviceInfo[];
    try {
      devices = (await api<{ devices: DeviceInfo[] }>('/api/devices')).devices;
    } catch (e) {
      return notify((e as Error).message, 'error');
    }
    const results = h('ul', { class: 'results' });
    const boxes = devices.map((d) =>
      h(
        'label',
        { class: 'check' },
        h('input', { type: 'checkbox', value: d.device_id, checked: d.device_id === deviceId }),
        d.name,
      ),
    );
    const form = h(
      'form',
      {
        method: 'dialog',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const chosen = boxes
            .map((b) => b.querySelector('input') as HTMLInputElement)
            .filter((i) => i.checked)
            .map((i) => i.value);
          if (chosen.length === 0) return notify('Choose at least one camera', 'info');
          try {
            const outcome = await apply(preset, chosen);
            mount(
              results,
              ...Object.entries(outcome).map(([id, r]) =>
                h('li', { class: r.ok ? 'ok' : 'error', 'data-result': id }, `${id}: ${r.ok ? 'applied' : describe(r)}`),
              ),
            );
          } catch (err) {
            notify((err as Error).message, 'error');
          }
        },
      },
      h('h2', null, `Apply “${preset.name}” to…`),
      h('div', { class: 'choices' }, ...boxes),
      results,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit', class: 'primary', 'data-action': 'apply-chosen' }, 'Apply'),
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Close'),
      ),
    );
    mount(dialog, form);
    dialog.showModal();
  }

  async function save(event: Event): Promise<void> {
    event.preventDefault();
    const shared = sharedBox.checked;
    const values = savable();
    if (Object.keys(values).length === 0) return notify(STILL_LOADING, 'info');
    try {
      const preset = await api<Preset>('/api/presets', {
        method: 'POST',
        body: { name: nameInput.value.trim(), values, ...(shared ? {} : { device_id: deviceId }) },
      });
      saveForm.reset();
      await reload();
      picker.value = preset.id;
      updateButtons();
      notify(`Saved as ${preset.name}`, 'ok');
    } catch (e) {
      notify((e as Error).message, 'error');
    }
  }

  async function remove(): Promise<void> {
    const preset = selected();
    if (!preset || !confirm(`Delete the preset ${preset.name}?`)) return;
    try {
      await api(`/api/presets/${encodeURIComponent(preset.id)}`, { method: 'DELETE' });
      await reload();
    } catch (e) {
      notify((e as Error).message, 'error');
    }
  }

  updateButtons();
  return { el, reload };
}

export function describe(result: DeviceResult | undefined): string {
  if (!result) return 'no answer';
  if (result.ok) return 'applied';
  return [result.error, result.key, result.message].filter(Boolean).join(': ');
}
