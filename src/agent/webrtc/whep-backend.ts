import { errorText, type Logger } from '../../core/log.ts';
import type { IceCandidate, Peer, PeerBackend, PeerEvents } from './peer.ts';
import { WatchRefused } from './peer.ts';
import { type OfferIce, offerIce, sdpFragment } from './sdp-frag.ts';

/**
 * `--webrtc whep`: each watch is bridged to a local WHEP endpoint (MediaMTX's
 * `http://127.0.0.1:8889/<path>/whep`, go2rtc's `/api/webrtc?src=…`), which is then the viewer's peer.
 * The viewer's offer is POSTed (`application/sdp`) and the answer relayed; the viewer's trickled
 * candidates are PATCHed to the session's resource once it exists; the resource is DELETEd when the
 * watch ends. The two servers differ: MediaMTX answers 201 with a Location and all of its candidates
 * (it never trickles), takes PATCH, and says 404 while nothing publishes on the path; go2rtc answers
 * without a Location (nothing to PATCH or DELETE) and refuses PATCH with 405. Candidates then travel
 * only in the connectivity checks, which works: the viewer is the controlling side.
 */

export interface WhepBackendOptions {
  url: URL;
  log: Logger;
  /** How long a 404 (nothing publishes yet, say the stream was just started) is retried. */
  publisherWaitMs?: number;
  requestTimeoutMs?: number;
}

const RETRY_MS = 500;

export function whepBackend(opts: WhepBackendOptions): PeerBackend {
  const { url, log } = opts;
  const publisherWaitMs = opts.publisherWaitMs ?? 6_000;
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  let lastStatus = 'no watch yet';

  return {
    mode: 'whep',
    describe: () => ({ whep_url: url.href }),
    streamEnv: () => ({}),
    status: () => `WHEP ${url.href}: ${lastStatus}`,
    close: async () => {},
    open(_request, _events: PeerEvents): Peer {
      let resource: URL | undefined;
      let offer: OfferIce | undefined;
      let closed = false;
      /** Candidates that came before the resource existed, or while a PATCH was on its way. */
      let pending: IceCandidate[] = [];
      let patching = false;
      /** No Location, or PATCH refused: the server takes no trickled candidates. */
      let noTrickle = false;

      const patch = async (): Promise<void> => {
        if (patching || noTrickle || !resource || !offer || pending.length === 0) return;
        patching = true;
        const batch = pending;
        pending = [];
        try {
          const res = await fetch(resource, {
            method: 'PATCH',
            headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': '*' },
            body: sdpFragment(offer, batch),
            signal: AbortSignal.timeout(timeoutMs),
          });
          await res.body?.cancel();
          if (res.status === 405 || res.status === 501) {
            noTrickle = true;
            log.info('the WHEP server takes no trickled candidates: connecting without them', { status: res.status });
          } else if (!res.ok) {
            log.warn('the WHEP server refused candidates', { status: res.status, candidates: batch.length });
          }
        } catch (error) {
          log.warn('sending candidates to the WHEP server failed', { error: errorText(error) });
        } finally {
          patching = false;
        }
        if (pending.length > 0) await patch();
      };

      return {
        async answer(offerSdp) {
          offer = offerIce(offerSdp);
          const deadline = Date.now() + publisherWaitMs;
          for (let attempt = 0; ; attempt++) {
            let res: Response;
            try {
              res = await fetch(url, {
                method: 'POST',
                headers: { 'content-type': 'application/sdp', accept: 'application/sdp' },
                body: offerSdp,
                signal: AbortSignal.timeout(timeoutMs),
              });
            } catch (error) {
              lastStatus = `unreachable (${cause(error)})`;
              throw new WatchRefused(`the camera's WHEP server ${url.href} cannot be reached (${cause(error)})`);
            }
            const body = await res.text();
            if (res.status === 404 && Date.now() + RETRY_MS < deadline && !closed) {
              // A stream just started takes a moment to appear on its path.
              if (attempt === 0) log.info('nothing publishes on the WHEP path yet: waiting for it', { url: url.href });
              await sleep(RETRY_MS);
              continue;
            }
            lastStatus = `last POST answered ${res.status}`;
            if (res.status === 404) {
              throw new WatchRefused(`nothing is publishing on ${url.href} (404): is the camera's stream running?`);
            }
            if (res.status !== 201 && res.status !== 200) {
              throw new WatchRefused(`the camera's WHEP server refused the watch: ${res.status} ${excerpt(body)}`);
            }
            if (!body.startsWith('v=0')) throw new WatchRefused("the camera's WHEP server answered without an SDP answer");
            const location = res.headers.get('location');
            if (location) resource = new URL(location, url);
            else noTrickle = true;
            if (closed) {
              // The watch ended while we waited: do not leave the server's session behind.
              await remove(resource);
              throw new WatchRefused('the watch ended');
            }
            void patch();
            return body;
          }
        },
        addCandidate(candidate) {
          if (noTrickle || !candidate.candidate) return;
          pending.push(candidate);
          void patch();
        },
        close() {
          if (closed) return;
          closed = true;
          void remove(resource);
        },
      };

      async function remove(at: URL | undefined): Promise<void> {
        if (!at) return;
        try {
          const res = await fetch(at, { method: 'DELETE', signal: AbortSignal.timeout(timeoutMs) });
          await res.body?.cancel();
          if (!res.ok && res.status !== 404) log.warn('the WHEP server refused to end a session', { status: res.status });
        } catch (error) {
          log.warn('ending the WHEP session failed', { error: errorText(error) });
        }
      }
    },
  };
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED…) in `cause`. */
function cause(error: unknown): string {
  const inner = (error as { cause?: { code?: string; message?: string } }).cause;
  return inner?.code ?? inner?.message ?? errorText(error);
}

function excerpt(body: string): string {
  return body.replace(/\s+/g, ' ').trim().slice(0, 200);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
