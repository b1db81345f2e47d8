import type { Preset, PresetRoomApi, PresetSaved } from '../contract.ts';
import { Room } from '../room.ts';
import type { State } from '../state/keys.ts';

/**
 * Every preset, shared and per device, in one room: presets change rarely and are read when applied,
 * never on a hot path. Names are unique within their owner (a device, or the shared set), compared
 * without regard to case so that "Night" and "night" cannot both exist.
 */

/** Presets one owner may have: a bound on what one account can make the server store. */
export const MAX_PRESETS_PER_OWNER = 500;

export class PresetRoom extends Room implements PresetRoomApi {
  private all(): Preset[] {
    return [...this.ctx.storage.list<Preset>('preset:').values()];
  }

  private sameOwner(device: string | undefined): Preset[] {
    return this.all().filter((preset) => preset.device_id === device);
  }

  list(device?: string): Preset[] {
    return this.all()
      .filter((preset) => preset.device_id === undefined || (device !== undefined && preset.device_id === device))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  get(id: string): Preset | null {
    return this.ctx.storage.get<Preset>(`preset:${id}`) ?? null;
  }

  create(preset: Preset): PresetSaved {
    const siblings = this.sameOwner(preset.device_id);
    if (siblings.length >= MAX_PRESETS_PER_OWNER) return { ok: false, reason: 'too_many' };
    if (nameTaken(siblings, preset.name)) return { ok: false, reason: 'name_taken' };
    this.ctx.storage.put(`preset:${preset.id}`, preset);
    return { ok: true, preset };
  }

  update(id: string, change: { name: string; values: State }): PresetSaved {
    const current = this.get(id);
    if (!current) return { ok: false, reason: 'not_found' };
    const siblings = this.sameOwner(current.device_id).filter((preset) => preset.id !== id);
    if (nameTaken(siblings, change.name)) return { ok: false, reason: 'name_taken' };
    const preset: Preset = { ...current, name: change.name, values: change.values };
    this.ctx.storage.put(`preset:${id}`, preset);
    return { ok: true, preset };
  }

  remove(id: string): Preset | null {
    const current = this.get(id);
    if (current) this.ctx.storage.delete(`preset:${id}`);
    return current;
  }

  removeDevice(deviceId: string): void {
    for (const preset of this.sameOwner(deviceId)) this.ctx.storage.delete(`preset:${preset.id}`);
  }
}

function nameTaken(presets: Preset[], name: string): boolean {
  const wanted = name.toLowerCase();
  return presets.some((preset) => preset.name.toLowerCase() === wanted);
}
