import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as v from 'valibot';

/**
 * The agent's options: command-line flags, else `EDGECAM_*` variables (so a systemd unit can keep the
 * key in an EnvironmentFile, out of `ps`). Checked once, here, with errors that name the option.
 */

export type Protocol = 'protobuf' | 'json';
/** How the agent answers watches: not at all, as the WebRTC peer fed by RTP, or bridged to a WHEP server. */
export type WebrtcMode = 'off' | 'rtp' | 'whep';
export type VideoCodec = 'h264' | 'vp8';

/** The WebRTC options; only the ones of the chosen mode matter. */
export interface WebrtcOptions {
  mode: WebrtcMode;
  /** rtp: the loopback UDP port the stream sends RTP to (RTCP goes to the next one). */
  rtpPort: number;
  codec: VideoCodec;
  /** whep: e.g. MediaMTX's http://127.0.0.1:8889/cam/whep */
  whepUrl: URL | undefined;
  /** rtp: `relay` sends media only through the TURN server of each watch (never the Pi's own addresses). */
  iceTransport: 'all' | 'relay';
  maxWatchers: number;
}

export interface Options {
  /** Base URL of the server, e.g. `http://192.168.1.10:8000` (ws/wss are accepted too). */
  server: URL;
  /** Extra trust for an https/wss server: a private CA or the server's self-signed certificate. */
  ca: { file: string; pem: string } | undefined;
  device: string;
  key: string;
  protocol: Protocol;
  apply: string | undefined;
  stream: string | undefined;
  simulate: boolean;
  stateFile: string;
  webrtc: WebrtcOptions;
}

export const USAGE = `usage: npm run agent -- --server <http(s) URL> --device <id> --key <key> [--ca <pem>]
                      [--protocol protobuf|json] [--apply <cmd>] [--stream <cmd>]
                      [--simulate] [--state-file <path>]
                      [--webrtc off|rtp|whep] [--rtp-port <n>] [--video-codec h264|vp8]
                      [--whep-url <URL>] [--ice-transport all|relay] [--max-watchers <n>]

  --server      base URL of the edgecam server           EDGECAM_SERVER
  --device      the device id registered on the server   EDGECAM_DEVICE
  --key         the device key from POST /api/devices    EDGECAM_KEY (prefer it: flags show in ps)
  --ca          PEM file: a private CA or the server's self-signed     EDGECAM_CA
                certificate, trusted for https:// besides the public CAs
  --protocol    protobuf (/ws/camera/, default) or json (/ws/device)   EDGECAM_PROTOCOL
  --apply       shell command; gets the full state as JSON on stdin    EDGECAM_APPLY
  --stream      shell command kept running while streaming is wanted   EDGECAM_STREAM
  --simulate    no camera needed: log settings, run a fake stream      EDGECAM_SIMULATE=true
  --state-file  where the last applied state is kept                   EDGECAM_STATE_FILE
                (default ~/.edgecam-agent-<device>.json)

  watching the camera over WebRTC (docs/agent.md):
  --webrtc         off (default: watches are declined), rtp (this agent is the WebRTC
                   peer, fed RTP by --stream) or whep (bridge to MediaMTX/go2rtc)   EDGECAM_WEBRTC
  --rtp-port       rtp: the loopback port --stream sends RTP to (default 5004);
                   the stream gets it as EDGECAM_RTP_URL                           EDGECAM_RTP_PORT
  --video-codec    rtp: h264 (default; constrained baseline) or vp8                EDGECAM_VIDEO_CODEC
  --whep-url       whep: e.g. http://127.0.0.1:8889/cam/whep                       EDGECAM_WHEP_URL
  --ice-transport  rtp: all (default) or relay (media only through TURN)           EDGECAM_ICE_TRANSPORT
  --max-watchers   watches served at once (default 8)                              EDGECAM_MAX_WATCHERS
  --help           this text`;

/** A bad or missing option: main prints it with the usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const nonEmpty = (what: string) => v.pipe(v.string(`${what} must be a string`), v.trim(), v.minLength(1, `${what} is empty`));

const Schema = v.object({
  server: v.pipe(
    v.string('--server is required (or EDGECAM_SERVER), e.g. --server http://192.168.1.10:8000'),
    v.trim(),
    v.check((s) => URL.canParse(s), '--server must be a URL, e.g. http://192.168.1.10:8000'),
    v.transform((s) => new URL(s)),
    v.check(
      (url) => ['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol),
      '--server must start with http:// or https:// (ws:// and wss:// work too)',
    ),
    v.check((url) => !url.search && !url.hash, '--server is a base URL: no ?query or #fragment'),
  ),
  ca: v.optional(nonEmpty('--ca')),
  device: v.pipe(
    v.string('--device is required (or EDGECAM_DEVICE)'),
    v.regex(/^[A-Za-z0-9._-]{1,64}$/, '--device must be 1-64 characters of A-Z a-z 0-9 . _ -'),
  ),
  key: v.pipe(
    v.string('--key is required (or EDGECAM_KEY): the key POST /api/devices returned'),
    v.trim(),
    v.minLength(1, '--key is empty'),
    v.maxLength(256, '--key is too long (at most 256 characters)'),
  ),
  protocol: v.optional(v.picklist(['protobuf', 'json'], '--protocol must be protobuf or json'), 'protobuf'),
  apply: v.optional(nonEmpty('--apply')),
  stream: v.optional(nonEmpty('--stream')),
  simulate: v.optional(
    v.pipe(
      v.picklist(['true', 'false', '1', '0', 'yes', 'no'], 'EDGECAM_SIMULATE must be true or false'),
      v.transform((s) => s === 'true' || s === '1' || s === 'yes'),
    ),
    'false',
  ),
  stateFile: v.optional(nonEmpty('--state-file')),
  webrtc: v.optional(v.picklist(['off', 'rtp', 'whep'], '--webrtc must be off, rtp or whep'), 'off'),
  rtpPort: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,5}$/, '--rtp-port must be a port number'),
      v.transform(Number),
      v.minValue(1024, '--rtp-port must be 1024-65534 (the next port takes RTCP)'),
      v.maxValue(65534, '--rtp-port must be 1024-65534 (the next port takes RTCP)'),
    ),
    '5004',
  ),
  videoCodec: v.optional(v.picklist(['h264', 'vp8'], '--video-codec must be h264 or vp8'), 'h264'),
  whepUrl: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.check((s) => URL.canParse(s), '--whep-url must be a URL, e.g. http://127.0.0.1:8889/cam/whep'),
      v.transform((s) => new URL(s)),
      v.check((url) => url.protocol === 'http:' || url.protocol === 'https:', '--whep-url must start with http:// or https://'),
    ),
  ),
  iceTransport: v.optional(v.picklist(['all', 'relay'], '--ice-transport must be all or relay'), 'all'),
  maxWatchers: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, '--max-watchers must be a number'),
      v.transform(Number),
      v.minValue(1, '--max-watchers must be 1-64'),
      v.maxValue(64, '--max-watchers must be 1-64'),
    ),
    '8',
  ),
});

type Env = Record<string, string | undefined>;

/**
 * Flags win over the environment; an empty variable counts as unset. Throws UsageError, or returns
 * 'help' for --help.
 */
export function parseOptions(argv: readonly string[], env: Env, home = homedir()): Options | 'help' {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(argv);
  } catch (error) {
    // parseArgs says e.g. "Unknown option '--sever'": good enough, minus its hint about '--'.
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  if (flags.help) return 'help';
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] === '' ? undefined : env[name]);
  const input = {
    server: pick(flags.server, 'EDGECAM_SERVER'),
    ca: pick(flags.ca, 'EDGECAM_CA'),
    device: pick(flags.device, 'EDGECAM_DEVICE'),
    key: pick(flags.key, 'EDGECAM_KEY'),
    protocol: pick(flags.protocol, 'EDGECAM_PROTOCOL'),
    apply: pick(flags.apply, 'EDGECAM_APPLY'),
    stream: pick(flags.stream, 'EDGECAM_STREAM'),
    simulate: flags.simulate ? 'true' : pick(undefined, 'EDGECAM_SIMULATE')?.toLowerCase(),
    stateFile: pick(flags['state-file'], 'EDGECAM_STATE_FILE'),
    webrtc: pick(flags.webrtc, 'EDGECAM_WEBRTC')?.toLowerCase(),
    rtpPort: pick(flags['rtp-port'], 'EDGECAM_RTP_PORT'),
    videoCodec: pick(flags['video-codec'], 'EDGECAM_VIDEO_CODEC')?.toLowerCase(),
    whepUrl: pick(flags['whep-url'], 'EDGECAM_WHEP_URL'),
    iceTransport: pick(flags['ice-transport'], 'EDGECAM_ICE_TRANSPORT')?.toLowerCase(),
    maxWatchers: pick(flags['max-watchers'], 'EDGECAM_MAX_WATCHERS'),
  };
  // Unset options stay as `undefined` keys: a required one then fails with its own message.
  const parsed = v.safeParse(Schema, input);
  if (!parsed.success) throw new UsageError(parsed.issues[0]?.message ?? 'invalid options');
  const o = parsed.output;
  if (o.webrtc === 'whep' && !o.whepUrl) {
    throw new UsageError('--webrtc whep needs --whep-url (or EDGECAM_WHEP_URL), e.g. http://127.0.0.1:8889/cam/whep');
  }
  return {
    server: o.server,
    ca: o.ca === undefined ? undefined : { file: o.ca, pem: readCa(o.ca) },
    device: o.device,
    key: o.key,
    protocol: o.protocol,
    apply: o.apply,
    stream: o.stream,
    simulate: o.simulate,
    stateFile: o.stateFile ?? join(home, `.edgecam-agent-${o.device}.json`),
    webrtc: {
      mode: o.webrtc,
      rtpPort: o.rtpPort,
      codec: o.videoCodec,
      whepUrl: o.whepUrl,
      iceTransport: o.iceTransport,
      maxWatchers: o.maxWatchers,
    },
  };
}

/** The --ca file, checked now so a wrong path or file is a usage error, not a TLS failure on every retry. */
function readCa(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--ca ${file}: cannot read it (${(error as Error).message.replace(/, \w+ '.*'$/, '')})`);
  }
  try {
    new X509Certificate(pem);
  } catch {
    throw new UsageError(
      `--ca ${file}: not a PEM certificate: give the CA's certificate (ca.pem, "-----BEGIN CERTIFICATE-----"), never its private key`,
    );
  }
  return pem;
}

function parseFlags(argv: readonly string[]) {
  const text = { type: 'string' } as const;
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      server: text,
      ca: text,
      device: text,
      key: text,
      protocol: text,
      apply: text,
      stream: text,
      'state-file': text,
      webrtc: text,
      'rtp-port': text,
      'video-codec': text,
      'whep-url': text,
      'ice-transport': text,
      'max-watchers': text,
      simulate: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new Error(`Unexpected argument '${positionals[0]}'`);
  return values;
}
