import type { Logger } from '../../core/log.ts';
import type { Options } from '../options.ts';
import type { PeerBackend } from './peer.ts';
import { whepBackend } from './whep-backend.ts';

/**
 * The backend `--webrtc` asks for, or none. werift (some 25 MB of JavaScript) is imported only for
 * `rtp`, so an agent without WebRTC, or bridging to WHEP, stays as light as it was. Throws when the
 * RTP port cannot be bound: the agent cannot do what it was asked.
 */
export async function loadBackend(options: Options, log: Logger): Promise<PeerBackend | undefined> {
  const { webrtc } = options;
  if (webrtc.mode === 'off') return undefined;
  if (webrtc.mode === 'whep') return whepBackend({ url: webrtc.whepUrl as URL, log });
  const { rtpBackend } = await import('./rtp-backend.ts');
  return rtpBackend({ port: webrtc.rtpPort, codec: webrtc.codec, iceTransport: webrtc.iceTransport, log });
}
