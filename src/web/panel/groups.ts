import type { KeyDescription } from './api.ts';

/** How the device page groups the schema's keys. Keys not named here land in "Other", so new keys still show. */
const GROUPS: Array<[title: string, keys: string[]]> = [
  ['Picture', ['brightness', 'contrast', 'saturation', 'sharpness', 'gain', 'red-gain', 'blue-gain']],
  ['Exposure', ['auto-exposure', 'exposure-time', 'auto-white-balance', 'noise-supression']],
  ['Stream', ['resolution', 'fps', 'bitrate', 'encoding', 'quality', 'jpeg-quality']],
  [
    'Cameras',
    ['main-camera', 'cam1-light', 'cam2-light', 'cam1-sensor', 'cam2-sensor', 'pip-mode', 'cam1-exists', 'cam2-exists'],
  ],
  ['AI', ['ai-enabled', 'ai-model', 'ai-confidence']],
  ['Device', ['camera-name']],
];

/** The keys with buttons of their own at the top of the page. */
export const ACTION_KEYS = ['record', 'snap'];

export function groupKeys(keys: KeyDescription[]): Array<{ title: string; keys: KeyDescription[] }> {
  const byKey = new Map(keys.filter((k) => !ACTION_KEYS.includes(k.key)).map((k) => [k.key, k]));
  const groups = GROUPS.map(([title, names]) => ({
    title,
    keys: names.flatMap((name) => {
      const def = byKey.get(name);
      byKey.delete(name);
      return def ? [def] : [];
    }),
  }));
  groups.push({ title: 'Other', keys: [...byKey.values()] });
  return groups.filter((g) => g.keys.length > 0);
}
