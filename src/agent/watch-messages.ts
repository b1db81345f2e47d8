import * as v from 'valibot';
import type { Logger } from '../core/log.ts';
import type { DeviceLink, InboundEnvelope } from './device-link.ts';
import type { WatchEvents, WatchSignals } from './webrtc/watches.ts';

/**
 * The watch half of the device protocol (docs/protocol.md, "Watch sessions"), both ways: the server's
 * `watch_request`, `signal_offer`, `signal_ice` and `watch_ended` checked and handed to the agent's
 * watch sessions, and their answers, candidates and `end_watch` sent back. Without WebRTC (`--webrtc
 * off`) a watch request is declined at once, rather than leaving the viewer to wait for the server's
 * answer timeout.
 */

const IceServer = v.object({
  urls: v.union([v.string(), v.array(v.string())]),
  username: v.optional(v.string()),
  credential: v.optional(v.string()),
});
const Candidate = v.object({
  candidate: v.string(),
  sdpMid: v.optional(v.nullable(v.string())),
  sdpMLineIndex: v.optional(v.nullable(v.number())),
  usernameFragment: v.optional(v.nullable(v.string())),
});
const Payloads = {
  watch_request: v.object({
    session_id: v.string(),
    user_id: v.optional(v.string(), ''),
    ice_servers: v.optional(v.array(IceServer), []),
  }),
  signal_offer: v.object({ session_id: v.string(), sdp: v.object({ type: v.literal('offer'), sdp: v.string() }) }),
  signal_ice: v.object({ session_id: v.string(), candidate: v.nullish(Candidate) }),
  watch_ended: v.object({ session_id: v.string(), reason: v.optional(v.string(), '') }),
};

/** True when `message` was one of the watch messages (handled or, without WebRTC, declined). */
export function routeWatchMessage(
  message: InboundEnvelope,
  watches: WatchEvents | undefined,
  link: DeviceLink,
  log: Logger,
): boolean {
  const { type } = message;
  if (!Object.hasOwn(Payloads, type)) return false;
  const check = <K extends keyof typeof Payloads>(kind: K): v.InferOutput<(typeof Payloads)[K]> | undefined => {
    const parsed = v.safeParse(Payloads[kind], message.payload);
    if (parsed.success) return parsed.output;
    log.warn(`ignoring a malformed ${kind}`, { problem: parsed.issues[0]?.message });
    return undefined;
  };
  switch (type) {
    case 'watch_request': {
      const p = check('watch_request');
      if (!p) break;
      if (watches) watches.request({ session: p.session_id, user: p.user_id, iceServers: p.ice_servers });
      else decline(p.session_id, link, log);
      break;
    }
    case 'signal_offer': {
      const p = check('signal_offer');
      if (p && watches) watches.offer(p.session_id, p.sdp.sdp);
      break;
    }
    case 'signal_ice': {
      const p = check('signal_ice');
      if (p && watches) watches.candidate(p.session_id, p.candidate ?? null);
      break;
    }
    case 'watch_ended': {
      const p = check('watch_ended');
      if (p && watches) watches.ended(p.session_id, p.reason);
      break;
    }
  }
  return true;
}

function decline(session: string, link: DeviceLink, log: Logger): void {
  log.info('declining a WebRTC watch request: --webrtc is off (see docs/agent.md)', { session: session.slice(0, 8) });
  link.send('end_watch', {
    session_id: session,
    message: 'this camera does not serve WebRTC watches (its agent runs with --webrtc off)',
  });
}

/** The agent's side of a watch, as envelopes on the link. */
export function watchSignals(link: DeviceLink): WatchSignals {
  return {
    answer: (session, sdp) => link.send('signal_answer', { session_id: session, sdp: { type: 'answer', sdp } }),
    candidate: (session, candidate) => link.send('signal_ice', { session_id: session, candidate }),
    end: (session, message) => link.send('end_watch', { session_id: session, message: message.slice(0, 512) }),
  };
}
