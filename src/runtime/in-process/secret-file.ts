import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomToken } from '../../core/crypto.ts';

/**
 * JWT_SECRET for hosts with a disk (Node, Deno, the local Worker): the environment's, else one
 * generated on first start and kept in DATA_DIR (mode 0600), so tokens survive restarts.
 */
export function storedSecret(dataDir: string, fromEnv: string | undefined, onCreate?: (path: string) => void): string {
  if (fromEnv) return fromEnv;
  const path = join(dataDir, 'jwt-secret');
  try {
    const stored = readFileSync(path, 'utf8').trim();
    if (stored) return stored;
  } catch {
    // not there yet
  }
  const secret = randomToken(48);
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  onCreate?.(path);
  return secret;
}
