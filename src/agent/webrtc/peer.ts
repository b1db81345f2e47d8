import type { LogFields } from '../../core/log.ts';

/**
 * The contract between the agent's watch sessions and whatever serves their video: this agent as the
 * WebRTC peer (rtp-backend.ts) or a local WHEP server it bridges to (whep-backend.ts). A backend makes
 * one Peer per watch; the peer answers the viewer's offer, takes the viewer's candidates, and says when
 * it cannot go on, in words the viewer is shown.
 */

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** A viewer wants to watch: the server's `watch_request`. */
export interface WatchRequest {
  session: string;
  user: string;
  /** The STUN/TURN servers (and TURN credentials) the server handed out for this session. */
  iceServers: IceServer[];
}

/** A watch that cannot be served; the message is for the person watching. */
export class WatchRefused extends Error {
  override name = 'WatchRefused';
}

export interface PeerEvents {
  /** A local candidate for the viewer (a backend that trickles). */
  candidate(candidate: IceCandidate): void;
  /** Media flows. */
  connected(): void;
  /** The peer cannot go on (no video, ICE failed, the WHEP server went away): the watch ends with this. */
  failed(message: string): void;
}

export interface Peer {
  /** The viewer's offer in, the answer out; rejects with WatchRefused when it cannot be served. */
  answer(offerSdp: string): Promise<string>;
  /** A candidate the viewer trickled, after the answer. Never throws: a bad candidate is only logged. */
  addCandidate(candidate: IceCandidate): void;
  /** Releases everything the peer holds; safe to call more than once. */
  close(): void;
}

export interface PeerBackend {
  readonly mode: 'rtp' | 'whep';
  open(request: WatchRequest, events: PeerEvents): Peer;
  /** For the agent's start-up line. */
  describe(): LogFields;
  /** What the `--stream` command gets besides the settings: `EDGECAM_RTP_URL` for rtp. */
  streamEnv(): Record<string, string>;
  /** A sentence for GET_STATUS, e.g. "video arriving (1.9 Mbit/s)". */
  status(): string;
  /** On shutdown: every peer is already closed; release what the backend shares (the RTP socket). */
  close(): Promise<void>;
}
