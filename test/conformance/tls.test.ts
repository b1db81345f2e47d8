import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawnChild } from '../../scripts/child-process.ts';
import { runAgent, stopAgents, waitFor } from '../helpers/agent.ts';
import { TestSocket } from '../helpers/client.ts';
import { ADMIN_PASSWORD, currentTarget, serverCommand, startServer, type TestServer, unsupported } from '../helpers/server.ts';
import { httpsJson, makeTestCertificates, type TestCertificates } from '../helpers/tls.ts';

/**
 * TLS_CERT and TLS_KEY (Node and Deno): one port, HTTPS and WSS only, checked with real clients that
 * trust the test CA and clients that do not; the agent's --ca; and the starts that must fail.
 */

const skip = unsupported('tls');

let certs: TestCertificates;
let server: TestServer;
let admin: string;
const work = mkdtempSync(join(tmpdir(), 'edgecam-tls-test-'));

before(async () => {
  if (skip) return;
  certs = makeTestCertificates();
  server = await startServer({ env: { TLS_CERT: certs.certFile, TLS_KEY: certs.keyFile } });
  admin = await loginOverHttps();
});
after(async () => {
  await stopAgents();
  await server?.stop();
  certs?.remove();
  rmSync(work, { recursive: true, force: true });
});

async function loginOverHttps(): Promise<string> {
  const res = await httpsJson(`${server.url}/api/login`, 'POST', {
    ca: certs.ca,
    body: { username: 'admin', password: ADMIN_PASSWORD },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.token;
}

async function registerDevice(deviceId: string): Promise<string> {
  const res = await httpsJson(`${server.url}/api/devices`, 'POST', { ca: certs.ca, token: admin, body: { device_id: deviceId } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.key;
}

async function online(deviceId: string): Promise<boolean> {
  const res = await httpsJson(`${server.url}/api/devices/${deviceId}`, 'GET', { ca: certs.ca, token: admin });
  return res.body?.online === true;
}

/** What a plain-HTTP request to `url` got: an HTTP response, or the error that ended it. */
function plainHttp(url: string): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end();
  });
}

describe('with TLS_CERT and TLS_KEY', { skip }, () => {
  test('the start-up line gives the https:// and wss:// URLs', () => {
    assert.match(server.output(), /edgecam listening url=https:\/\/127\.0\.0\.1:\d+ ws=wss:\/\/127\.0\.0\.1:\d+\/ws\//);
  });

  test('a client that trusts the CA logs in over HTTPS', async () => {
    const res = await httpsJson(`${server.url}/api/me`, 'GET', { ca: certs.ca, token: await loginOverHttps() });
    assert.equal(res.status, 200);
    assert.equal(res.body.username, 'admin');
  });

  test('a client that does not trust the CA is refused with a certificate error', async () => {
    await assert.rejects(httpsJson(`${server.url}/healthz`, 'GET'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const socket = new TestSocket(`${server.wsUrl}/ws/viewer`);
    await assert.rejects(socket.opened, { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  test('a plain http:// request to the same port gets no HTTP response', async () => {
    const answer = await plainHttp(server.url.replace('https:', 'http:'));
    assert.ok('error' in answer, `plain HTTP was answered: ${JSON.stringify(answer)}`);
  });

  test('a device says hello over WSS, and a viewer on WSS sees it', async () => {
    const key = await registerDevice('tls-cam');
    const device = await TestSocket.open(`${server.wsUrl}/ws/device`, { ca: certs.ca });
    device.envelope('hello', { device_id: 'tls-cam', key });
    assert.equal((await device.next('hello_ack')).payload.device_id, 'tls-cam');
    const viewer = await TestSocket.open(`${server.wsUrl}/ws/viewer`, { ca: certs.ca });
    viewer.envelope('hello', { token: admin });
    await viewer.next('hello_ack');
    viewer.envelope('subscribe', { device_ids: ['tls-cam'] });
    const snapshot = await viewer.nextWhere((m) => m.type === 'state' && m.payload.snapshot === true, 'the snapshot');
    assert.equal(snapshot.payload.device_id, 'tls-cam');
    assert.ok(await online('tls-cam'));
  });

  test('the agent with --ca connects over WSS and its device comes online', async () => {
    const key = await registerDevice('tls-agent-cam');
    const stateFile = join(work, 'tls-agent-cam.json');
    const agent = runAgent(
      ['--server', server.url, '--device', 'tls-agent-cam', '--ca', certs.caFile, '--simulate', '--state-file', stateFile],
      { EDGECAM_KEY: key },
    );
    await waitFor('the agent online over wss', () => online('tls-agent-cam'), 15_000, agent);
    assert.match(agent.output(), /connected url="?wss:\/\/127\.0\.0\.1:\d+\/ws\/camera\//);
  });

  test('the agent without --ca does not connect and says to pass --ca', async () => {
    const key = await registerDevice('tls-untrusting-cam');
    const stateFile = join(work, 'tls-untrusting-cam.json');
    const agent = runAgent(['--server', server.url, '--device', 'tls-untrusting-cam', '--simulate', '--state-file', stateFile], {
      EDGECAM_KEY: key,
    });
    await waitFor('a failed connection', () => /connection failed .*--ca <pem>/.test(agent.output()), 15_000, agent);
    assert.equal(await online('tls-untrusting-cam'), false);
    await agent.stop();
  });
});

/** Starts the server with `env` (on a free port, in a fresh data directory): it must exit 1 at once. */
async function failedStart(env: Record<string, string>): Promise<string> {
  const dataDir = mkdtempSync(join(work, 'data-'));
  const child = spawnChild(serverCommand(), {
    env: { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_PASSWORD, PASSWORD_ITERATIONS: '100000', ...env },
  });
  const timer = setTimeout(() => child.stop(), 30_000);
  const code = await child.exited;
  clearTimeout(timer);
  assert.equal(code, 1, `expected exit 1:\n${child.output()}`);
  assert.doesNotMatch(child.output(), /edgecam listening/);
  return child.output('stderr');
}

describe('a TLS setup that cannot work stops the start, saying what to do', { skip }, () => {
  test('TLS_CERT without TLS_KEY', async () => {
    const stderr = await failedStart({ TLS_CERT: certs.certFile });
    assert.match(stderr, /edgecam: invalid environment: TLS_CERT is set but TLS_KEY is not: HTTPS needs both/);
  });

  test('TLS_KEY without TLS_CERT', async () => {
    const stderr = await failedStart({ TLS_KEY: certs.keyFile });
    assert.match(stderr, /TLS_KEY is set but TLS_CERT is not/);
  });

  test('a TLS_CERT that does not exist', async () => {
    const missing = join(work, 'no-such-cert.pem');
    const stderr = await failedStart({ TLS_CERT: missing, TLS_KEY: certs.keyFile });
    assert.match(stderr, new RegExp(`TLS_CERT="${missing}": cannot read it \\(ENOENT: no such file or directory\\)`));
  });

  test('a TLS_KEY that is not PEM', async () => {
    const stderr = await failedStart({ TLS_CERT: certs.certFile, TLS_KEY: join(certs.dir, 'server.ext') });
    assert.match(stderr, /TLS_KEY=".*server\.ext": not a PEM file/);
  });

  test('a TLS_KEY that belongs to another certificate', async () => {
    const stderr = await failedStart({ TLS_CERT: certs.certFile, TLS_KEY: certs.caKeyFile });
    assert.match(stderr, /TLS_KEY=".*ca\.key" is not the private key of the certificate in TLS_CERT=".*server\.pem"/);
  });
});

describe('the local Worker', { skip: currentTarget() !== 'workerd' && 'a workerd-only refusal' }, () => {
  test('refuses TLS_CERT and TLS_KEY rather than serve plain HTTP', async () => {
    const stderr = await failedStart({ TLS_CERT: join(work, 'server.pem'), TLS_KEY: join(work, 'server.key') });
    assert.match(stderr, /TLS_CERT and TLS_KEY are for the Node and Deno servers; the local Worker serves plain HTTP/);
  });
});
