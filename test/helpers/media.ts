import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { freePort, spawnChild } from '../../scripts/child-process.ts';

export { freePort };

/**
 * Video and TURN for the WebRTC tests, from Debian's packages (`apt-get install ffmpeg coturn`;
 * .ci/run installs them): ffmpeg's test sources encoded as a Raspberry Pi sends them, and coturn with
 * the REST-API secret edgecam's TURN credentials are made for.
 */

function need(command: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) {
    throw new Error(`${command} is not installed: apt-get install ${pkg} (CI installs it)`);
  }
}

/**
 * The `--stream` command of a test camera: a moving test pattern, small and with a keyframe every
 * third of a second, so a viewer that joins decodes at once. H.264 as constrained baseline
 * (what Debian's Chromium decodes) with SPS/PPS before every keyframe, as `rpicam-vid --inline` makes it.
 */
export function testStream(codec: 'h264' | 'vp8', url = '"$EDGECAM_RTP_URL"'): string {
  need('ffmpeg', 'ffmpeg');
  const encoder =
    codec === 'h264'
      ? '-c:v libx264 -profile:v baseline -preset ultrafast -tune zerolatency -bsf:v dump_extra'
      : '-c:v libvpx -deadline realtime -cpu-used 8 -error-resilient 1';
  return `exec ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=15 -pix_fmt yuv420p ${encoder} -g 5 -b:v 400k -f rtp ${url}`;
}

/** An even UDP port whose next port is free too (RTP and RTCP), on 127.0.0.1. */
export async function freeRtpPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 10_000);
    if ((await udpFree(port)) && (await udpFree(port + 1))) return port;
  }
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

export interface Turn {
  url: string;
  secret: string;
  output(): string;
  stop(): Promise<void>;
}

/** coturn on loopback, checking credentials with `use-auth-secret` as a deployment would. */
export async function startCoturn(): Promise<Turn> {
  need('turnserver', 'coturn');
  const port = await freePort();
  const relay = await freeRtpPort();
  const secret = 'turn-secret-for-tests';
  const coturn = spawnChild([
    'turnserver',
    ...['-n', '--no-cli', '--no-tls', '--no-dtls', '--log-file=stdout', '--simple-log'],
    ...['--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`],
    ...[`--min-port=${relay}`, `--max-port=${relay + 40}`, '--realm=edgecam.test'],
    ...['--use-auth-secret', `--static-auth-secret=${secret}`],
    // Both parties are on this machine, so the relays talk to loopback addresses.
    '--allow-loopback-peers',
  ]);
  await coturn.waitFor(/Total General servers|listener opened on/i, 10_000, 'coturn listening');
  return {
    url: `turn:127.0.0.1:${port}?transport=udp`,
    secret,
    output: () => coturn.output(),
    async stop() {
      await coturn.stop();
    },
  };
}
