import { errorText, type Logger } from '../../core/log.ts';
import type { IceCandidate, Peer, PeerBackend, WatchRequest } from './peer.ts';
import { WatchRefused } from './peer.ts';

/**
 * The agent's watch sessions: one Peer per `watch_request`, the viewer's offer and candidates routed
 * to it, its answer and candidates sent back, and every way a session ends (the viewer leaves, the
 * server ends it, the link drops, the peer fails). A session the agent cannot serve is ended with
 * `end_watch` and a message the viewer sees, never left to time out.
 */

/** Watch signaling to the server, on the /ws/device link. */
export interface WatchSignals {
  answer(session: string, sdp: string): void;
  candidate(session: string, candidate: IceCandidate): void;
  end(session: string, message: string): void;
}

/** Watch signaling from the server, as the /ws/device link parsed it. */
export interface WatchEvents {
  request(request: WatchRequest): void;
  offer(session: string, sdp: string): void;
  candidate(session: string, candidate: IceCandidate | null): void;
  ended(session: string, reason: string): void;
  /** The link dropped: the server has ended every session with it. */
  offline(): void;
}

interface Session {
  peer: Peer;
  user: string;
  startedAt: number;
  /** The viewer's candidates that came before the answer; null once it is sent. */
  early: IceCandidate[] | null;
  answering: boolean;
}

export interface WatchesOptions {
  maxWatchers: number;
  /** Before a watch is served: start the stream if it is not running (a watch wants video). */
  beforeWatch?: () => void;
}

export class Watches implements WatchEvents {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly backend: PeerBackend,
    private readonly signals: WatchSignals,
    private readonly log: Logger,
    private readonly options: WatchesOptions,
  ) {}

  get count(): number {
    return this.sessions.size;
  }

  request(request: WatchRequest): void {
    const { session, user } = request;
    if (this.sessions.has(session)) return;
    if (this.sessions.size >= this.options.maxWatchers) {
      const message = `this camera serves at most ${this.options.maxWatchers} viewers at once`;
      this.log.warn('watch refused', { session: short(session), user, why: message });
      return this.signals.end(session, message);
    }
    this.options.beforeWatch?.();
    let peer: Peer;
    try {
      peer = this.backend.open(request, {
        candidate: (candidate) => this.current(session, peer) && this.signals.candidate(session, candidate),
        connected: () => {
          if (!this.current(session, peer)) return;
          const ms = Date.now() - (this.sessions.get(session) as Session).startedAt;
          this.log.info('viewer connected', { session: short(session), user, ms });
        },
        failed: (message) => this.current(session, peer) && this.end(session, message),
      });
    } catch (error) {
      this.log.error('could not open a peer for a watch', { session: short(session), error: errorText(error) });
      return this.signals.end(session, 'the camera could not set up the video connection');
    }
    this.sessions.set(session, { peer, user, startedAt: Date.now(), early: [], answering: false });
    this.log.info('watch started', { session: short(session), user, mode: this.backend.mode, watchers: this.sessions.size });
  }

  offer(session: string, sdp: string): void {
    const entry = this.sessions.get(session);
    if (!entry) return this.log.warn('offer for an unknown watch session, ignored', { session: short(session) });
    if (entry.answering || entry.early === null) {
      return this.log.warn('a second offer in one watch session (renegotiation) is not supported: ignored', {
        session: short(session),
      });
    }
    entry.answering = true;
    entry.peer.answer(sdp).then(
      (answer) => {
        if (this.sessions.get(session) !== entry) return;
        this.signals.answer(session, answer);
        for (const candidate of entry.early ?? []) entry.peer.addCandidate(candidate);
        entry.early = null;
        this.log.info('watch answered', { session: short(session), ms: Date.now() - entry.startedAt });
      },
      (error) => {
        if (this.sessions.get(session) !== entry) return;
        if (!(error instanceof WatchRefused)) {
          this.log.error('answering a watch failed', { session: short(session), error: errorText(error) });
        }
        this.end(session, error instanceof WatchRefused ? error.message : 'the camera could not answer the video offer');
      },
    );
  }

  candidate(session: string, candidate: IceCandidate | null): void {
    const entry = this.sessions.get(session);
    // null is the viewer's end-of-candidates marker: nothing to pass on.
    if (!entry || !candidate) return;
    if (entry.early) entry.early.push(candidate);
    else entry.peer.addCandidate(candidate);
  }

  ended(session: string, reason: string): void {
    const entry = this.sessions.get(session);
    if (!entry) return;
    this.drop(session, entry);
    this.log.info('watch ended', { session: short(session), reason, watchers: this.sessions.size });
  }

  offline(): void {
    if (this.sessions.size === 0) return;
    this.log.info('link lost: ending every watch', { watchers: this.sessions.size });
    this.closeAll();
  }

  /** On shutdown: close every peer. The server ends the sessions when the link closes. */
  closeAll(): void {
    for (const [session, entry] of [...this.sessions]) this.drop(session, entry);
  }

  /** The agent cannot serve this watch: tell the server (the viewer sees the message) and let go. */
  private end(session: string, message: string): void {
    const entry = this.sessions.get(session);
    if (!entry) return;
    this.drop(session, entry);
    this.signals.end(session, message);
    this.log.warn('watch ended by the agent', { session: short(session), why: message, watchers: this.sessions.size });
  }

  private drop(session: string, entry: Session): void {
    this.sessions.delete(session);
    entry.peer.close();
  }

  /** Events of a peer whose session has ended (or was replaced) are stale. */
  private current(session: string, peer: Peer | undefined): boolean {
    return peer !== undefined && this.sessions.get(session)?.peer === peer;
  }
}

/** Session ids are UUIDs: the first 8 characters are what the server logs too. */
function short(session: string): string {
  return session.slice(0, 8);
}
