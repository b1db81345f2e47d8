import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Throwaway certificates for 127.0.0.1 and localhost, made with `openssl` as docs/deploy.md tells users
 * to: a private CA and a server certificate it signed, and a self-signed certificate. Elliptic-curve
 * keys, valid for two days, in a temporary directory that `remove()` deletes.
 */

export interface TestCertificates {
  dir: string;
  /** The CA's certificate: what a client must trust. */
  caFile: string;
  ca: string;
  /** The CA's private key (a key that belongs to no server certificate). */
  caKeyFile: string;
  /** The server's certificate, signed by the CA, and its key: TLS_CERT and TLS_KEY. */
  certFile: string;
  keyFile: string;
  /** A self-signed server certificate and its key, for the same names. */
  selfSignedFile: string;
  selfSignedKeyFile: string;
  remove(): void;
}

const NAMES = 'subjectAltName=DNS:localhost,IP:127.0.0.1';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args.join(' ')} failed (is openssl installed?): ${(error as Error).message}\n${stderr}`);
  }
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-tls-'));
  const days = ['-days', '2'];
  openssl(dir, ['req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.pem', ...days, '-subj', '/CN=edgecam test CA']);
  openssl(dir, ['req', '-new', ...EC_KEY, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  writeFileSync(join(dir, 'server.ext'), `${NAMES}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    ...days,
    '-extfile',
    'server.ext',
  ]);
  openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    'self.key',
    '-out',
    'self.pem',
    ...days,
    '-subj',
    '/CN=localhost',
    '-addext',
    NAMES,
  ]);
  const caFile = join(dir, 'ca.pem');
  return {
    dir,
    caFile,
    ca: readFileSync(caFile, 'utf8'),
    caKeyFile: join(dir, 'ca.key'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    selfSignedFile: join(dir, 'self.pem'),
    selfSignedKeyFile: join(dir, 'self.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A JSON request over `node:https`, trusting `ca` (fetch takes no CA without undici's dispatcher).
 * Rejects with the TLS error when the server's certificate is not trusted.
 */
export function httpsJson(
  url: string,
  method: string,
  opts: { ca?: string; token?: string; body?: unknown } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back and assert on it.
): Promise<{ status: number; body: any }> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca: opts.ca, agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}
