import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StaticFile, StaticFiles } from '../../core/http/assets.ts';

/** Where `npm run build` writes the web panel, relative to this file (not to the working directory). */
export const PUBLIC_DIR = fileURLToPath(new URL('../../../dist/public', import.meta.url));

/**
 * The built panel, read once into memory (a few hundred KB): serving it then never touches the disk.
 * Null when it has not been built. Underscore files (`_headers`) are Workers configuration, not content.
 */
export function loadStaticFiles(dir = PUBLIC_DIR): StaticFiles | null {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && !entry.name.startsWith('_'))
      .map((entry) => join(entry.parentPath, entry.name));
  } catch {
    return null;
  }
  const files = new Map<string, StaticFile>();
  for (const name of names) {
    const body = new Uint8Array(readFileSync(name)) as Uint8Array<ArrayBuffer>;
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    files.set(`/${relative(dir, name).split(sep).join('/')}`, { body, etag });
  }
  return files.has('/index.html') ? files : null;
}
