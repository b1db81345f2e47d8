import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { errorText, type Logger } from '../../core/log.ts';
import type { VideoCodec } from '../options.ts';
import { type IceCandidate, type Peer, type PeerBackend, type PeerEvents, WatchRefused, type WatchRequest } from './peer.ts';
import { RtpSource } from './rtp-source.ts';

/**
 * `--webrtc rtp`: the agent is the WebRTC peer of every watch. werift (pure TypeScript, loaded only in
 * this mode) answers each viewer's offer with one send-only video track fed from the shared RTP
 * source; each sender rewrites SSRC, payload type and sequence numbers for its viewer. Each peer is
 * built with the ICE servers of its own `watch_request`, so it relays through the server's TURN with
 * the server's credentials. The answer carries all of the agent's candidates (werift gathers before
 * it resolves), so nothing trickles from this side.
 */

export interface RtpBackendOptions {
  port: number;
  codec: VideoCodec;
  iceTransport: 'all' | 'relay';
  log: Logger;
  /** How long a new watch waits for the first RTP packet before it ends with "no video". */
  videoWaitMs?: number;
}

const CODEC_NAMES: Record<VideoCodec, string> = {
  h264: 'H.264 (constrained baseline, packetization-mode 1)',
  vp8: 'VP8',
};

function codecParameters(codec: VideoCodec): RTCRtpCodecParameters {
  // NACK only: werift resends lost packets from its cache. A PLI could not reach the encoder (rpicam-vid
  // has no such input): a viewer waits for the stream's next keyframe instead.
  const rtcpFeedback = [{ type: 'nack' }];
  return codec === 'h264'
    ? new RTCRtpCodecParameters({
        mimeType: 'video/H264',
        clockRate: 90_000,
        rtcpFeedback,
        parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
      })
    : new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90_000, rtcpFeedback });
}

export async function rtpBackend(opts: RtpBackendOptions): Promise<PeerBackend & { source: RtpSource }> {
  const { log, codec } = opts;
  const source = new RtpSource(opts.port, log);
  await source.bind();
  const videoWaitMs = opts.videoWaitMs ?? 6_000;

  return {
    mode: 'rtp',
    source,
    describe: () => ({ rtp_url: source.url, codec, ice_transport: opts.iceTransport }),
    streamEnv: () => ({ EDGECAM_RTP_URL: source.url }),
    status: () => source.status(),
    close: () => source.close(),
    open(request: WatchRequest, events: PeerEvents): Peer {
      const pc = new RTCPeerConnection({
        // Always the watch's own list, even empty: werift's default is a public STUN server.
        iceServers: request.iceServers.map(({ urls, username, credential }) => ({ urls, username, credential })),
        iceTransportPolicy: opts.iceTransport,
        codecs: { audio: [], video: [codecParameters(codec)] },
      });
      const track = new MediaStreamTrack({ kind: 'video' });
      const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
      const unsubscribe = source.subscribe((packet, newStream) => {
        // A restarted publisher starts new numbering: the sender keeps the viewer's continuous.
        if (newStream) track.notifySourceChanged(packet.header);
        track.writeRtp(packet);
      });
      let closed = false;
      pc.connectionStateChange.subscribe((state) => {
        if (closed) return;
        if (state === 'connected') events.connected();
        if (state === 'failed') {
          events.failed('the video connection failed: no network path between the viewer and the camera (a TURN server helps)');
        }
      });
      void source.waitForVideo(videoWaitMs).then((arrived) => {
        if (arrived || closed) return;
        events.failed(
          `no video from the camera's stream: nothing arrived on ${source.url} within ${videoWaitMs / 1000} s ` +
            '(is the --stream command running? see the agent log)',
        );
      });

      return {
        async answer(offerSdp) {
          try {
            await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
          } catch (error) {
            throw new WatchRefused(`the viewer's video offer could not be used (${errorText(error)})`);
          }
          if (transceiver.mid == null) throw new WatchRefused("the viewer's offer asks for no video");
          if (transceiver.codecs.length === 0) {
            throw new WatchRefused(`the viewer does not accept ${CODEC_NAMES[codec]}, the only codec this camera sends`);
          }
          await pc.setLocalDescription(await pc.createAnswer());
          const sdp = pc.localDescription?.sdp;
          if (!sdp) throw new Error('werift made no answer');
          return sdp;
        },
        addCandidate(candidate: IceCandidate) {
          pc.addIceCandidate(candidate).catch((error) =>
            log.debug('ignoring a viewer candidate werift refused', { error: errorText(error) }),
          );
        },
        close() {
          if (closed) return;
          closed = true;
          unsubscribe();
          track.stop();
          pc.close().catch((error) => log.warn('closing a peer connection failed', { error: errorText(error) }));
        },
      };
    },
  };
}
