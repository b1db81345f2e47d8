import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command, type CommandType, decodeStatus, encodeCommand, type Settings } from '../../src/core/camera/codec.ts';
import { type AgentProcess as Agent, runAgent, stopAgents, waitFor } from '../helpers/agent.ts';
import { TestSocket } from '../helpers/client.ts';
import { api, login, registerDevice } from '../helpers/http.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/**
 * The device agent as users run it: a child process (`src/agent/main.ts`) against the real server.
 * Its effects are observed from outside: `--apply` writes the state it gets to a file, `--stream`
 * appends "start <pid> <fps>" to a file and sleeps. These are external processes with no event to
 * await, so the tests poll, every wait bounded.
 */

const work = mkdtempSync(join(tmpdir(), 'edgecam-agent-test-'));
let server: TestServer;
let admin: string;

before(async () => {
  server = await startServer();
  admin = await login(server.url);
});
after(async () => {
  await stopAgents();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

// — what the agent leaves behind —

/** One camera: a registered device and the files its agent's commands write. */
class Camera {
  readonly dir: string;
  readonly applied: string;
  readonly applyRuns: string;
  readonly starts: string;
  readonly stateFile: string;
  key = '';
  agent: Agent | undefined;

  constructor(
    readonly id: string,
    readonly protocol: 'json' | 'protobuf',
  ) {
    this.dir = mkdtempSync(join(work, `${id}-`));
    this.applied = join(this.dir, 'applied.json');
    this.applyRuns = join(this.dir, 'apply-runs.log');
    this.starts = join(this.dir, 'starts.log');
    this.stateFile = join(this.dir, 'agent-state.json');
    // Run with `exec`, so the shell, the script and the sleep are one process: nothing is orphaned for
    // a slow init to reap (the unit tests cover killing real pipelines).
    writeFileSync(join(this.dir, 'stream.sh'), `echo "start $$ $EDGECAM_FPS" >> '${this.starts}'\nexec sleep 1000\n`);
  }

  async register(base = server.url, token = admin): Promise<this> {
    this.key = await registerDevice(base, token, this.id);
    return this;
  }

  /** The state the last --apply run got on stdin. */
  appliedState(): Record<string, unknown> | undefined {
    try {
      return JSON.parse(readFileSync(this.applied, 'utf8'));
    } catch {
      return undefined; // not written yet
    }
  }

  /** What the agent's state file says it last applied. */
  rememberedState(): Record<string, unknown> | undefined {
    try {
      return JSON.parse(readFileSync(this.stateFile, 'utf8')).applied ?? undefined;
    } catch {
      return undefined; // not written yet
    }
  }

  /** Lines only: the shell creates a file before it writes to it, so a read can find it empty. */
  applyCount(): number {
    return lines(this.applyRuns).length;
  }

  /** Each start of the stream: [pid, EDGECAM_FPS]. */
  streamStarts(): { pid: number; fps: string }[] {
    return lines(this.starts)
      .map((line) => line.split(' '))
      .map(([, pid, fps]) => ({ pid: Number(pid), fps: fps ?? '' }));
  }

  patch(body: object, base = server.url, token = admin) {
    return api(base, 'PATCH', `/api/devices/${this.id}/state`, { token, body });
  }

  async online(base = server.url, token = admin): Promise<boolean> {
    return (await api(base, 'GET', `/api/devices/${this.id}`, { token })).body?.online === true;
  }
}

/** The non-empty lines of a file the agent's commands append to ([] before it exists). */
function lines(file: string): string[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
    : [];
}

/** The agent for `camera`, the key in EDGECAM_KEY as the systemd unit in docs/agent.md passes it. */
const startWithKey = (camera: Camera, base = server.url) => {
  const agent = runAgent(
    [
      ...['--server', base, '--device', camera.id, '--protocol', camera.protocol, '--state-file', camera.stateFile],
      // The run is counted before the state file appears, and the state file appears whole (mv), so a
      // test that has seen the new state has also seen its count.
      ...[
        '--apply',
        `echo run >> '${camera.applyRuns}'; cat > '${camera.applied}.tmp'; mv '${camera.applied}.tmp' '${camera.applied}'; echo "applied fps=$EDGECAM_FPS"`,
      ],
      ...['--stream', `exec sh '${join(camera.dir, 'stream.sh')}'`],
    ],
    { EDGECAM_KEY: camera.key },
  );
  camera.agent = agent;
  return agent;
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A controller on /ws/camera/: the server-side way to send START/STOP/GET_STATUS to either channel. */
async function controller(camera: Camera) {
  const socket = await TestSocket.open(`${server.wsUrl}/ws/camera/?device=${camera.id}`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  let n = 0;
  return {
    async send(command: CommandType, settings?: Settings) {
      const requestId = `${camera.id}-${++n}`;
      socket.ws.send(encodeCommand({ command, settings, requestId }));
      const replyTo = (m: unknown) => {
        if (!Buffer.isBuffer(m)) return false;
        const status = decodeStatus(m);
        return status.ok && status.message.requestId === requestId;
      };
      const raw = await socket.nextWhere(replyTo, `the reply to ${requestId}`, 8_000);
      const decoded = decodeStatus(new Uint8Array(raw));
      assert.ok(decoded.ok);
      return decoded.message;
    },
    close: () => socket.close(),
  };
}

// — the same behaviour over both protocols —

for (const protocol of ['json', 'protobuf'] as const) {
  describe(`over ${protocol}`, () => {
    const camera = new Camera(`cam-${protocol}`, protocol);

    before(async () => {
      await camera.register();
      startWithKey(camera);
    });

    test('the agent comes online, applies the full state and starts the stream', async () => {
      const agent = camera.agent as Agent;
      await waitFor('online', () => camera.online(), 8_000, agent);
      const state = await waitFor('the first apply', () => camera.appliedState(), 5_000, agent);
      // The full state under spec key names: every key on json, the camera keys on protobuf.
      assert.equal(state.fps, 30);
      assert.equal(state.resolution, '1920x1080');
      assert.equal(state.bitrate, '2M');
      assert.equal('record' in state, protocol === 'json');
      const [first] = await waitFor('the stream', () => camera.streamStarts().length > 0 && camera.streamStarts(), 5_000, agent);
      assert.equal(first?.fps, '30');
      assert.ok(alive(first?.pid as number));
      assert.doesNotMatch(agent.output(), new RegExp(camera.key));
    });

    test('a change is applied within a second, and an fps change restarts the stream with the new fps', async () => {
      const agent = camera.agent as Agent;
      const before = camera.streamStarts();
      const started = Date.now();
      assert.equal((await camera.patch({ brightness: 70, fps: 25 })).status, 200);
      await waitFor('the change applied', () => camera.appliedState()?.brightness === 70, 1_000, agent);
      assert.ok(Date.now() - started < 1_000);
      assert.equal(camera.appliedState()?.fps, 25);
      const starts = await waitFor(
        'a stream restart',
        () => camera.streamStarts().length === before.length + 1 && camera.streamStarts(),
        5_000,
        agent,
      );
      assert.equal(starts.at(-1)?.fps, '25');
      await waitFor('the old stream gone', () => !alive(before.at(-1)?.pid as number), 3_000);
      // The server holds what the agent reported applying.
      const state = await api(server.url, 'GET', `/api/devices/${camera.id}/state`, { token: admin });
      assert.equal(state.body.fps, 25);
    });

    test('a stream that is killed is started again', async () => {
      const agent = camera.agent as Agent;
      const before = camera.streamStarts();
      process.kill(before.at(-1)?.pid as number, 'SIGKILL');
      await waitFor('a restart', () => camera.streamStarts().length === before.length + 1, 5_000, agent);
      assert.ok(alive(camera.streamStarts().at(-1)?.pid as number));
    });

    test('STOP_STREAM, START_STREAM, RESTART_CAMERA, GET_STATUS and UPDATE_SETTINGS from a controller are answered by the agent', async () => {
      const agent = camera.agent as Agent;
      const control = await controller(camera);
      try {
        const running = camera.streamStarts().at(-1)?.pid as number;
        const stopped = await control.send(Command.STOP_STREAM);
        assert.equal(stopped.success, true);
        assert.equal(stopped.message, 'stream stopped');
        assert.equal(alive(running), false);
        const status = await control.send(Command.GET_STATUS);
        assert.match(status.message, /stream stopped; settings applied/);
        assert.equal(status.currentSettings?.fps, 25);

        const count = camera.streamStarts().length;
        const started = await control.send(Command.START_STREAM);
        assert.match(started.message, /^stream started \(pid \d+\)$/);
        await waitFor('the stream started', () => camera.streamStarts().length === count + 1, 5_000, agent);
        assert.match((await control.send(Command.GET_STATUS)).message, /^stream running \(pid \d+\)/);

        const restarted = await control.send(Command.RESTART_CAMERA);
        assert.match(restarted.message, /^stream restarted/);
        await waitFor('the stream restarted', () => camera.streamStarts().length === count + 2, 5_000, agent);

        // A settings change from the controller is answered by the agent: the apply command's last line.
        const updated = await control.send(Command.UPDATE_SETTINGS, { fps: 24 });
        assert.deepEqual([updated.success, updated.message, updated.currentSettings?.fps], [true, 'applied fps=24', 24]);
        await waitFor('the stream restarted for fps 24', () => camera.streamStarts().at(-1)?.fps === '24', 5_000, agent);
      } finally {
        control.close();
      }
    });
  });
}

// — restarts: of the server, and of the agent —

for (const protocol of ['json', 'protobuf'] as const) {
  test(`${protocol}: the agent reconnects on its own to a server restarted on the same port and data dir`, async () => {
    const dataDir = mkdtempSync(join(work, 'server-'));
    let first: TestServer | undefined = await startServer({ dataDir });
    let second: TestServer | undefined;
    try {
      const token = await login(first.url);
      const camera = await new Camera(`cam-restart-${protocol}`, protocol).register(first.url, token);
      const agent = startWithKey(camera, first.url);
      await waitFor('online', () => camera.online(first?.url, token), 8_000, agent);
      await waitFor('the first apply', () => camera.appliedState(), 5_000, agent);

      const port = new URL(first.url).port;
      await first.stop();
      first = undefined;
      second = await startServer({ dataDir, env: { PORT: port } });
      const token2 = await login(second.url);
      // The agent backs off with jitter up to 30 s while the server is away, so allow one full step.
      await waitFor('online again', () => camera.online(second?.url, token2), 35_000, agent);
      assert.equal((await camera.patch({ fps: 15 }, second.url, token2)).status, 200);
      await waitFor('the change applied', () => camera.appliedState()?.fps === 15, 2_000, agent);
      assert.match(agent.output(), /disconnected code=100[16]/);
      await agent.stop();
    } finally {
      await first?.stop();
      await second?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test(`${protocol}: a change made while the agent was down is applied when it is back; a quiet restart does not re-apply`, async () => {
    const camera = await new Camera(`cam-offline-${protocol}`, protocol).register();
    let agent = startWithKey(camera);
    // Counted first, then written: stopping before the state file is there would stop the apply midway.
    await waitFor('the first apply', () => camera.applyCount() === 1 && camera.appliedState() !== undefined, 8_000, agent);
    assert.equal(await agent.stop(), 0);
    await waitFor('offline', async () => !(await camera.online()), 3_000);

    assert.equal((await camera.patch({ fps: 20, brightness: 33 })).status, 200);
    agent = startWithKey(camera);
    await waitFor('the offline change applied', () => camera.appliedState()?.fps === 20, 8_000, agent);
    assert.equal(camera.appliedState()?.brightness, 33);
    assert.equal(camera.applyCount(), 2);
    // The agent remembers a state once the apply command has exited, a moment after it wrote its file.
    await waitFor('the state file', () => camera.rememberedState()?.fps === 20, 3_000, agent);
    assert.equal(await agent.stop(), 0);

    agent = startWithKey(camera);
    await waitFor('online', () => camera.online(), 8_000, agent);
    await waitFor('the quiet restart', () => agent.output().includes('not re-applying'), 3_000, agent);
    assert.equal(camera.applyCount(), 2);
    // The stream started with the remembered settings, not the defaults.
    assert.equal(camera.streamStarts().at(-1)?.fps, '20');
    await agent.stop();
  });
}

test('a stream stopped by a command stays stopped across an agent restart', async () => {
  const camera = await new Camera('cam-wish', 'json').register();
  let agent = startWithKey(camera);
  await waitFor('the stream', () => camera.streamStarts().length === 1, 8_000, agent);
  await waitFor('online', () => camera.online(), 3_000, agent);
  const control = await controller(camera);
  assert.equal((await control.send(Command.STOP_STREAM)).success, true);
  control.close();
  assert.equal(await agent.stop(), 0);

  agent = startWithKey(camera);
  await waitFor('online', () => camera.online(), 8_000, agent);
  await waitFor('the notice', () => agent.output().includes('stream not started'), 3_000, agent);
  assert.equal(camera.streamStarts().length, 1);
  await agent.stop();
});

test('a wrong key or a deleted device is logged loudly and retried, never fatal', async () => {
  const wrong = await new Camera('cam-wrong-key', 'json').register();
  wrong.key = 'not-the-key';
  const deleted = await new Camera('cam-deleted', 'protobuf').register();
  const refusedAgent = startWithKey(wrong);
  const deletedAgent = startWithKey(deleted);
  await waitFor('online', () => deleted.online(), 8_000, deletedAgent);
  assert.equal((await api(server.url, 'DELETE', `/api/devices/${deleted.id}`, { token: admin })).status, 204);
  const refusals = (agent: Agent) => agent.output().match(/error disconnected code=1008 .*REFUSED/g)?.length ?? 0;
  await waitFor('two refusals', () => refusals(refusedAgent) >= 2, 5_000, refusedAgent);
  await waitFor('the deletion', () => /error disconnected code=4001 .*DELETED/.test(deletedAgent.output()), 3_000, deletedAgent);
  await waitFor('a refusal after the deletion', () => refusals(deletedAgent) >= 1, 5_000, deletedAgent);
  assert.equal(refusedAgent.child.exitCode, null);
  assert.equal(deletedAgent.child.exitCode, null);
  assert.equal(await refusedAgent.stop(), 0);
  assert.equal(await deletedAgent.stop(), 0);
});

test('--simulate needs no commands: it logs what it would apply and runs a fake stream', async () => {
  const camera = await new Camera('cam-sim', 'json').register();
  const agent = runAgent(
    ['--server', server.url, '--device', camera.id, '--protocol', 'json', '--simulate', '--state-file', camera.stateFile],
    { EDGECAM_KEY: camera.key },
  );
  camera.agent = agent;
  await waitFor('the first simulated apply', () => agent.output().includes('simulate: would apply settings'), 8_000, agent);
  assert.match(agent.output(), /stream started why=start resolution=1920x1080 fps=30/);
  assert.equal((await camera.patch({ fps: 12 })).status, 200);
  await waitFor('the change', () => /simulate: would apply settings settings=.*\\"fps\\":12/.test(agent.output()), 2_000, agent);
  await waitFor(
    'the simulated stream restarted',
    () => /stream started why="settings changed".*fps=12/.test(agent.output()),
    2_000,
  );
  assert.equal(await agent.stop(), 0);
  assert.match(agent.output(), /agent stopped/);
});

test('bad options are a usage error with exit status 2', async () => {
  const agent = runAgent(['--server', 'ftp://nowhere', '--device', 'd', '--key', 'k']);
  assert.equal(await agent.exited, 2);
  assert.match(agent.output(), /--server must start with http/);
  assert.match(agent.output(), /usage: npm run agent/);
});
