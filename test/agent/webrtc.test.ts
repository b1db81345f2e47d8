import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Command, encodeCommand } from '../../src/core/camera/codec.ts';
import { type AgentProcess, openFiles, runAgent, stopAgents, waitFor } from '../helpers/agent.ts';
import { launchBrowser, logIn, pageErrors } from '../helpers/browser.ts';
import { TestSocket } from '../helpers/client.ts';
import { eventually } from '../helpers/eventually.ts';
import { api, login, registerDevice } from '../helpers/http.ts';
import { freePort, freeRtpPort, startCoturn, type Turn, testStream } from '../helpers/media.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { startWhepServer, type WhepServer } from '../helpers/whep-server.ts';

/**
 * Watching a real camera: the agent as a child process, fed by ffmpeg's test sources, watched from
 * the web panel in headless Chromium through the real server. `--webrtc rtp` (the agent is the WebRTC
 * peer) with H.264 and VP8, on both protocols; `--webrtc whep` bridged to WHEP servers that behave as
 * MediaMTX's and go2rtc's do; TURN-only ICE through coturn; and every way a watch cannot be served.
 */

const work = mkdtempSync(join(tmpdir(), 'edgecam-webrtc-test-'));
let server: TestServer;
let browser: Browser;
let admin: string;
const closers: (() => Promise<unknown>)[] = [];

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  admin = await login(server.url);
});
after(async () => {
  await stopAgents();
  await Promise.all(closers.map((close) => close()));
  await browser?.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface CameraAgent {
  id: string;
  agent: AgentProcess;
}

/** A registered device and its agent. `args` after the connection flags; the key in EDGECAM_KEY. */
async function camera(id: string, args: string[], base = server) {
  const token = base === server ? admin : await login(base.url);
  const key = await registerDevice(base.url, token, id);
  // A small picture, so the built-in test pattern (--simulate) costs little too.
  await api(base.url, 'PATCH', `/api/devices/${id}/state`, {
    token,
    body: { resolution: '320x240', fps: 15, bitrate: '400k' },
  });
  const agent = runAgent(['--server', base.url, '--device', id, '--state-file', join(work, `${id}.json`), ...args], {
    EDGECAM_KEY: key,
  });
  await waitFor('the agent online', () => agent.output().includes(' online '), 15_000, agent);
  // On the protobuf channel, watches need the /ws/device link beside it too.
  if (args.includes('protobuf') && args.includes('--webrtc')) {
    await waitFor('watch signaling online', () => agent.output().includes('watch signaling online'), 15_000, agent);
  }
  return { id, agent } satisfies CameraAgent;
}

async function rtpCamera(id: string, codec: 'h264' | 'vp8', protocol: 'json' | 'protobuf', extra: string[] = []) {
  const port = String(await freeRtpPort());
  return camera(id, [
    ...['--protocol', protocol, '--webrtc', 'rtp', '--rtp-port', port, '--video-codec', codec],
    ...['--stream', testStream(codec), ...extra],
  ]);
}

/** A logged-in panel tab on the device's page. `init` runs in the page before its own scripts. */
async function panelOn(deviceId: string, init?: () => void, base = server): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const errors = pageErrors(page);
  await logIn(page, base.url, 'admin', ADMIN_PASSWORD);
  closers.push(async () => {
    assert.deepEqual(errors, [], 'uncaught errors in the panel');
    await context.close();
  });
  await page.goto(`${base.url}/#/devices/${deviceId}`);
  await page.waitForSelector('.heading .badge.on');
  return { context, page };
}

/** Decoded frames of the page's video so far (0 without a source). */
function frames(page: Page): Promise<number> {
  return page.evaluate(() => {
    const video = document.querySelector('video') as HTMLVideoElement;
    return video.srcObject ? video.getVideoPlaybackQuality().totalVideoFrames : 0;
  });
}

/** The video's current picture, shrunk to 16×12 grey levels. */
function picture(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const canvas = Object.assign(document.createElement('canvas'), { width: 16, height: 12 });
    const context = canvas.getContext('2d') as CanvasRenderingContext2D;
    context.drawImage(document.querySelector('video') as HTMLVideoElement, 0, 0, 16, 12);
    const { data } = context.getImageData(0, 0, 16, 12);
    const grey: number[] = [];
    for (let i = 0; i < data.length; i += 4)
      grey.push(((data[i] as number) + (data[i + 1] as number) + (data[i + 2] as number)) / 3);
    return grey;
  });
}

/** Clicks Watch and waits until `count` more frames of the camera's 320×240 picture are decoded. */
async function watchVideo(page: Page, count = 5, timeout = 20_000): Promise<void> {
  const before = await frames(page);
  await page.click('[data-action="watch"]');
  await page.waitForFunction(
    ([from, more]) => {
      const video = document.querySelector('video') as HTMLVideoElement;
      return video.videoWidth === 320 && video.getVideoPlaybackQuality().totalVideoFrames >= (from as number) + (more as number);
    },
    [before, count],
    { timeout },
  );
}

/** Clicks Watch and returns why the watch ended, as the panel shows it. */
async function watchRefused(page: Page, timeout = 15_000): Promise<string> {
  await page.click('[data-action="watch"]');
  const note = page.locator('.video-note');
  await note.filter({ hasText: 'Stopped:' }).waitFor({ timeout });
  return (await note.textContent()) ?? '';
}

async function stopWatching(page: Page): Promise<void> {
  await page.click('[data-action="watch"]');
  await page.waitForSelector('[data-action="watch"]:text-is("Watch")');
}

/** How many watches the agent has seen end. */
const ends = (agent: AgentProcess) => agent.output().match(/ info watch ended /g)?.length ?? 0;

/** The agent's count of open watches, from the last log line that gives it. */
function watchers(agent: AgentProcess): number {
  const counts = [...agent.output().matchAll(/ watchers=(\d+)/g)];
  return Number(counts.at(-1)?.[1] ?? -1);
}

describe('--webrtc rtp: the agent is the WebRTC peer', () => {
  test('H.264 over the json protocol: two viewers at once, each with its own peer connection', async () => {
    const cam = await rtpCamera('rtp-h264', 'h264', 'json');
    const [a, b] = await Promise.all([panelOn(cam.id), panelOn(cam.id)]);
    await watchVideo(a.page);
    await watchVideo(b.page);
    await waitFor('two watchers', () => watchers(cam.agent) === 2, 5_000, cam.agent);
    assert.match(cam.agent.output(), /info video arriving url="rtp:\/\/127\.0\.0\.1:\d+\?pkt_size=1200"/);
    await stopWatching(a.page);
    // The other viewer keeps its picture.
    const now = await frames(b.page);
    await b.page.waitForFunction(
      (seen) => (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames > seen + 5,
      now,
    );
    await stopWatching(b.page);
    await waitFor('no watchers', () => watchers(cam.agent) === 0, 5_000, cam.agent);
  });

  test('VP8 over the protobuf protocol: watches travel on a /ws/device link beside /ws/camera/', async () => {
    const cam = await rtpCamera('rtp-vp8', 'vp8', 'protobuf');
    assert.match(cam.agent.output(), /watch signaling online device=rtp-vp8 endpoint=\/ws\/device/);
    assert.match(cam.agent.output(), /info online device=rtp-vp8 protocol=protobuf/);
    const { page } = await panelOn(cam.id);
    await watchVideo(page);
    await stopWatching(page);
  });

  test('twenty watches one after another: each is served, and every peer connection is released', async () => {
    const cam = await rtpCamera('rtp-repeat', 'h264', 'json');
    const { page } = await panelOn(cam.id);
    await watchVideo(page, 2);
    await stopWatching(page);
    await waitFor('the first watch ended', () => ends(cam.agent) === 1, 5_000, cam.agent);
    // After one watch: werift's modules are loaded and its lazy state made; what stays open once the
    // count holds still (the first peer's sockets closed) is the baseline.
    let last = -1;
    const baseline = await eventually(
      'the open files to settle',
      () => {
        const [before, now] = [last, openFiles(cam.agent.pid)];
        last = now;
        return now === before && now;
      },
      { everyMs: 250 },
    );
    for (let i = 2; i <= 20; i++) {
      await watchVideo(page, 2);
      await stopWatching(page);
      await waitFor(`watch ${i} ended`, () => ends(cam.agent) === i, 5_000, cam.agent);
    }
    assert.equal(watchers(cam.agent), 0);
    // Each peer holds UDP sockets (a host candidate per interface): 19 leaked peers would be dozens of files.
    const open = await waitFor(
      'the sockets released',
      () => openFiles(cam.agent.pid) <= baseline + 2 && openFiles(cam.agent.pid),
    );
    assert.ok(open <= baseline + 2, `open files: ${baseline} after one watch, ${open} after twenty`);
  });

  test('a watch starts a stream that a command stopped', async () => {
    const cam = await rtpCamera('rtp-stopped', 'h264', 'json');
    const controller = await TestSocket.open(`${server.wsUrl}/ws/camera/?device=${cam.id}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    controller.ws.send(encodeCommand({ command: Command.STOP_STREAM, requestId: 'stop-1' }));
    await waitFor('the stream stopped', () => /stream stopped why=stop/.test(cam.agent.output()), 5_000, cam.agent);
    controller.close();
    const { page } = await panelOn(cam.id);
    await watchVideo(page);
    assert.match(cam.agent.output(), /a watch starts the stopped stream/);
    await stopWatching(page);
  });

  test('--simulate with no --stream sends a moving ffmpeg test pattern; a resize restarts it under the watch', async () => {
    const port = String(await freeRtpPort());
    const cam = await camera('rtp-simulated', ['--protocol', 'json', '--simulate', '--webrtc', 'rtp', '--rtp-port', port]);
    const { page } = await panelOn(cam.id);
    await watchVideo(page, 10);
    const first = await picture(page);
    await waitFor('the picture to move', async () =>
      (await picture(page)).some((grey, i) => Math.abs(grey - (first[i] as number)) > 8),
    );
    // A new resolution restarts the stream (a new SSRC, new numbering): the watch goes on at the new size.
    await api(server.url, 'PATCH', `/api/devices/${cam.id}/state`, { token: admin, body: { resolution: '480x360' } });
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).videoWidth === 480, null, {
      timeout: 10_000,
    });
    const resized = await frames(page);
    await page.waitForFunction(
      (seen) => (document.querySelector('video') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames > seen + 10,
      resized,
    );
    assert.match(cam.agent.output(), /video arriving from a new stream/);
    await stopWatching(page);
  });
});

describe('watches the agent cannot serve end with a reason the viewer sees', () => {
  test('no video: the stream sends no RTP', async () => {
    const port = String(await freeRtpPort());
    const cam = await camera('no-rtp', [
      '--protocol',
      'json',
      '--webrtc',
      'rtp',
      '--rtp-port',
      port,
      '--stream',
      'exec sleep 1000',
    ]);
    const { page } = await panelOn(cam.id);
    const started = Date.now();
    const note = await watchRefused(page);
    assert.match(
      note,
      /the camera could not stream: no video from the camera's stream: nothing arrived on rtp:\/\/127\.0\.0\.1:/,
    );
    assert.ok(Date.now() - started < 10_000, "ended within the agent's 6 s wait for video");
  });

  test('codec refused: a viewer that does not accept H.264', async () => {
    const cam = await rtpCamera('vp8-only-viewer', 'h264', 'json');
    const { page } = await panelOn(cam.id, () => {
      const add = RTCPeerConnection.prototype.addTransceiver;
      RTCPeerConnection.prototype.addTransceiver = function (this: RTCPeerConnection, ...args) {
        const transceiver = add.apply(this, args);
        const vp8 = (RTCRtpReceiver.getCapabilities('video')?.codecs ?? []).filter((c) => c.mimeType === 'video/VP8');
        transceiver.setCodecPreferences(vp8);
        return transceiver;
      } as typeof add;
    });
    assert.match(await watchRefused(page), /the viewer does not accept H\.264 \(constrained baseline, packetization-mode 1\)/);
  });

  test('--webrtc off (the default) declines at once, saying so', async () => {
    const cam = await camera('no-webrtc', ['--protocol', 'json', '--stream', 'exec sleep 1000']);
    const { page } = await panelOn(cam.id);
    assert.match(await watchRefused(page, 5_000), /does not serve WebRTC watches \(its agent runs with --webrtc off\)/);
  });

  test('a WHEP server that is down', async () => {
    const port = await freePort();
    const cam = await camera('whep-down', [
      '--protocol',
      'json',
      '--webrtc',
      'whep',
      '--whep-url',
      `http://127.0.0.1:${port}/cam/whep`,
    ]);
    const { page } = await panelOn(cam.id);
    assert.match(
      await watchRefused(page, 5_000),
      /WHEP server http:\/\/127\.0\.0\.1:\d+\/cam\/whep cannot be reached \(ECONNREFUSED\)/,
    );
  });
});

describe('--webrtc whep: each watch bridged to a local WHEP server', () => {
  test('as MediaMTX: 404 before a publisher exists, then video, trickled candidates PATCHed, DELETE at the end', async () => {
    const whep: WhepServer = await startWhepServer('mediamtx');
    closers.push(() => whep.stop());
    const cam = await camera('whep-mediamtx', ['--protocol', 'protobuf', '--webrtc', 'whep', '--whep-url', whep.url]);
    const { page } = await panelOn(cam.id);
    assert.match(await watchRefused(page), /nothing is publishing on http:\/\/127\.0\.0\.1:\d+\/cam\/whep \(404\)/);

    await whep.publish();
    await watchVideo(page);
    const post = whep.requests.find((r) => r.method === 'POST' && r.status === 201);
    assert.equal(post?.contentType, 'application/sdp');
    assert.match(post?.body ?? '', /^v=0\r\n/);
    const patch = await waitFor('a PATCH', () => whep.requests.find((r) => r.method === 'PATCH'));
    assert.equal(patch.status, 204);
    assert.equal(patch.contentType, 'application/trickle-ice-sdpfrag');
    assert.match(patch.body, /^a=ice-ufrag:\S+\r\na=ice-pwd:\S+\r\nm=video .*\r\na=mid:0\r\na=candidate:/);
    assert.ok(whep.candidates.length > 0);

    await stopWatching(page);
    await waitFor('the DELETE', () => whep.requests.some((r) => r.method === 'DELETE' && r.status === 200), 5_000, cam.agent);
    assert.equal(whep.sessions(), 0);
  });

  test('as go2rtc: no Location, so no PATCH or DELETE, and the video still plays', async () => {
    const whep = await startWhepServer('go2rtc');
    closers.push(() => whep.stop());
    await whep.publish();
    const cam = await camera('whep-go2rtc', ['--protocol', 'json', '--webrtc', 'whep', '--whep-url', whep.url]);
    const { page } = await panelOn(cam.id);
    await watchVideo(page);
    await stopWatching(page);
    assert.deepEqual(
      whep.requests.map((r) => `${r.method} ${r.status}`),
      ['POST 201'],
    );
  });
});

describe('TURN only, through coturn', () => {
  let turn: Turn;
  let relayServer: TestServer;

  before(async () => {
    turn = await startCoturn();
    relayServer = await startServer({ env: { TURN_URLS: turn.url, TURN_SECRET: turn.secret } });
  });
  after(async () => {
    await relayServer?.stop();
    await turn?.stop();
  });

  test("both sides relay-only with the server's TURN credentials: the video flows through the relay", async () => {
    const port = String(await freeRtpPort());
    const cam = await camera(
      'relay-cam',
      [
        ...['--protocol', 'json', '--webrtc', 'rtp', '--rtp-port', port, '--ice-transport', 'relay'],
        ...['--stream', testStream('h264')],
      ],
      relayServer,
    );
    const { page } = await panelOn(
      cam.id,
      () => {
        // The viewer may use only relayed candidates, as a browser behind a strict firewall would.
        const Native = window.RTCPeerConnection;
        const made: RTCPeerConnection[] = [];
        (window as unknown as { peers: RTCPeerConnection[] }).peers = made;
        window.RTCPeerConnection = class extends Native {
          constructor(config?: RTCConfiguration) {
            super({ ...config, iceTransportPolicy: 'relay' });
            made.push(this);
          }
        };
      },
      relayServer,
    );
    await watchVideo(page);
    const path = await page.evaluate(async () => {
      const pc = (window as unknown as { peers: RTCPeerConnection[] }).peers.at(-1) as RTCPeerConnection;
      const stats = [...(await pc.getStats()).values()];
      const pair = stats.find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated);
      const local = stats.find((s) => s.id === pair?.localCandidateId);
      const remote = stats.find((s) => s.id === pair?.remoteCandidateId);
      const answered = (pc.remoteDescription?.sdp ?? '').split('\r\n').filter((l) => l.startsWith('a=candidate:'));
      return { local: local?.candidateType, remote: remote?.candidateType, answered };
    });
    assert.equal(path.local, 'relay');
    assert.equal(path.remote, 'relay');
    assert.ok(path.answered.length > 0 && path.answered.every((c) => c.includes(' typ relay')), path.answered.join('\n'));
    await stopWatching(page);
  });
});
