/**
 * One-line logs that say what happened: `2026-01-01T00:00:00.000Z info device online device=cam-1`.
 * Fields are key=value; values with spaces are quoted. Credentials are never passed in.
 * With LOG_FORMAT=json each line is one JSON object for log shippers:
 * `{"time":"…","level":"info","message":"device online","device":"cam-1"}`.
 */

const levels = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 } as const;
export type LogLevel = keyof typeof levels;
export type LogFormat = 'text' | 'json';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

function text(at: string, message: string, fields: LogFields | undefined): string {
  let out = `${new Date().toISOString()} ${at} ${message}`;
  if (!fields) return out;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const shown = String(value);
    out += ` ${key}=${/[\s"=]/.test(shown) || shown === '' ? JSON.stringify(shown) : shown}`;
  }
  return out;
}

/** The fields sit beside time, level and message, which a field of the same name cannot replace. */
function json(at: string, message: string, fields: LogFields | undefined): string {
  const entry: Record<string, unknown> = { time: new Date().toISOString(), level: at, message };
  if (fields) for (const [key, value] of Object.entries(fields)) if (!(key in entry)) entry[key] = value;
  return JSON.stringify(entry);
}

export function createLogger(level: LogLevel, write: (line: string) => void = console.log, format: LogFormat = 'text'): Logger {
  const threshold = levels[level];
  const line = format === 'json' ? json : text;
  const emit = (at: Exclude<LogLevel, 'silent'>) => (message: string, fields?: LogFields) => {
    if (levels[at] < threshold) return;
    write(line(at, message, fields));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
