import { KEYS, type KeyDef } from './keys.ts';

/**
 * The schema descriptor served at GET /api/schema and written to docs/state.md: enough for a client
 * (the web panel) to build its controls without hard-coding any key.
 */

export interface KeyDescription {
  key: string;
  type: KeyDef['type'];
  description: string;
  default: KeyDef['default'];
  min?: number;
  max?: number;
  values?: readonly string[];
  pattern?: string;
  accepts?: readonly (string | boolean)[];
  read: 'viewer';
  write: KeyDef['write'];
}

export function describeKeys(): KeyDescription[] {
  return KEYS.map((def) => ({
    key: def.key,
    type: def.type,
    description: def.description,
    default: def.default,
    ...(def.min !== undefined ? { min: def.min } : {}),
    ...(def.max !== undefined ? { max: def.max } : {}),
    ...(def.values ? { values: def.values } : {}),
    ...(def.pattern ? { pattern: def.pattern } : {}),
    ...(def.accepts ? { accepts: def.accepts } : {}),
    read: 'viewer',
    write: def.write,
  }));
}

/** docs/state.md, generated: `npm run docs:state`; a test fails when it is out of date. */
export function stateMarkdown(): string {
  const rows = describeKeys().map((d) => {
    const range =
      d.type === 'boolean'
        ? '`true` \\| `false`'
        : d.type === 'trigger'
          ? '`true`'
          : d.min !== undefined
            ? `${d.min}–${d.max}`
            : d.values
              ? d.values.map((x) => `\`${x}\``).join(' \\| ')
              : d.pattern
                ? `\`${d.pattern}\``
                : '';
    const accepts = d.accepts ? ` (also ${d.accepts.map((x) => `\`${JSON.stringify(x)}\``).join(', ')})` : '';
    const write = d.write === 'device' ? 'device reports only' : `${d.write}+`;
    return `| \`${d.key}\` | ${d.type} | ${range}${accepts} | ${d.default === null ? '—' : `\`${JSON.stringify(d.default)}\``} | ${write} | ${d.description} |`;
  });
  return [
    '# Camera state keys',
    '',
    'Generated from `src/core/state/keys.ts` by `npm run docs:state`; a test fails when this file is out of date.',
    'Every key is readable by every role (and by anonymous `/api/v1` clients when `ANONYMOUS_READ` is on).',
    'Roles rank viewer < operator < admin: "operator+" means operators and admins.',
    '',
    '| key | type | range / values | default | who may write | description |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
