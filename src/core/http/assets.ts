import type { MiddlewareHandler } from 'hono';

/**
 * The web panel's files (built by `npm run build` into dist/public) for runtimes that serve them
 * themselves: Node and Deno. On Workers the platform serves the same directory as static assets,
 * with the same headers (written to `_headers` by the build).
 */

export interface StaticFile {
  body: Uint8Array<ArrayBuffer>;
  /** A strong validator of the content, quoted. */
  etag: string;
}

/** Path ('/index.html', '/assets/panel-X7Y.js') → file. */
export type StaticFiles = ReadonlyMap<string, StaticFile>;

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "media-src 'self' blob: mediastream:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Header rules in the order Cloudflare's `_headers` applies them; each path gets every rule that matches. */
export const HEADER_RULES: ReadonlyArray<{ pattern: string; headers: Record<string, string> }> = [
  // no-referrer: the simulator's URL carries a device key, which must not leak to other sites.
  {
    pattern: '/*',
    headers: { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' },
  },
  // Built files are named by their content hash, so they never change under the same name.
  { pattern: '/assets/*', headers: { 'Cache-Control': 'public, max-age=31536000, immutable' } },
];

/** Pages are revalidated on every load (cheap with the ETag), as Workers does by default. */
const REVALIDATE = 'public, max-age=0, must-revalidate';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
  json: 'application/json; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  webmanifest: 'application/manifest+json',
  txt: 'text/plain; charset=utf-8',
};

export function contentType(path: string): string {
  return TYPES[path.slice(path.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
}

/** `_headers` for Workers static assets, from HEADER_RULES. */
export function headersFile(): string {
  return HEADER_RULES.map(({ pattern, headers }) =>
    [pattern, ...Object.entries(headers).map(([name, value]) => `  ${name}: ${value}`)].join('\n'),
  ).join('\n\n');
}

/** '/' → '/index.html', '/simulator' → '/simulator.html': the same lookups as Workers' auto-trailing-slash. */
function lookup(files: StaticFiles, path: string): [string, StaticFile] | undefined {
  for (const candidate of path.endsWith('/') ? [`${path}index.html`] : [path, `${path}.html`]) {
    const file = files.get(candidate);
    if (file) return [candidate, file];
  }
  return undefined;
}

function headersFor(path: string, file: StaticFile): Headers {
  const headers = new Headers({ 'Content-Type': contentType(path), ETag: file.etag, 'Cache-Control': REVALIDATE });
  for (const rule of HEADER_RULES) {
    const prefix = rule.pattern.slice(0, -1);
    if (path.startsWith(prefix)) for (const [name, value] of Object.entries(rule.headers)) headers.set(name, value);
  }
  return headers;
}

export function serveStatic(files: StaticFiles): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return next();
    const found = lookup(files, c.req.path);
    if (!found) return next();
    const [path, file] = found;
    const headers = headersFor(path, file);
    if (notModified(c.req.header('if-none-match'), file.etag)) return new Response(null, { status: 304, headers });
    headers.set('Content-Length', String(file.body.byteLength));
    return new Response(c.req.method === 'HEAD' ? null : file.body, { headers });
  };
}

/** If-None-Match uses the weak comparison (RFC 9110 13.1.2): a proxy may have marked our ETag `W/`. */
function notModified(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(/\s*,\s*/).some((tag) => tag === '*' || tag.replace(/^W\//, '') === etag);
}
