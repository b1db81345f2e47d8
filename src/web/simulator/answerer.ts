/**
 * The camera's side of each watch session: an RTCPeerConnection per session that sends the test
 * pattern's track and answers the viewer's offer. Candidates that arrive before the offer wait for it.
 */

export type Send = (type: string, payload: Record<string, unknown>) => void;

interface Session {
  pc: RTCPeerConnection;
  early: RTCIceCandidateInit[] | null;
  viewer: string;
}

export class Answerer {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly stream: MediaStream,
    private readonly send: Send,
    private readonly changed: (sessions: Array<{ id: string; viewer: string; state: string }>) => void,
  ) {}

  open(sessionId: string, viewer: string, iceServers: RTCIceServer[]): void {
    const pc = new RTCPeerConnection({ iceServers });
    for (const track of this.stream.getVideoTracks()) pc.addTrack(track, this.stream);
    pc.onicecandidate = (e) => e.candidate && this.send('signal_ice', { session_id: sessionId, candidate: e.candidate.toJSON() });
    pc.onconnectionstatechange = () => this.report();
    this.sessions.set(sessionId, { pc, early: [], viewer });
    this.report();
  }

  async offer(sessionId: string, sdp: RTCSessionDescriptionInit): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    try {
      await session.pc.setRemoteDescription(sdp);
      for (const candidate of session.early ?? []) await session.pc.addIceCandidate(candidate);
      session.early = null;
      await session.pc.setLocalDescription(await session.pc.createAnswer());
      this.send('signal_answer', { session_id: sessionId, sdp: session.pc.localDescription?.toJSON() });
    } catch (error) {
      // Tell the viewer rather than leave it waiting for an answer that will not come.
      console.error('cannot answer the offer', error);
      this.send('end_watch', { session_id: sessionId });
      this.close(sessionId);
    }
  }

  ice(sessionId: string, candidate: RTCIceCandidateInit | null): void {
    const session = this.sessions.get(sessionId);
    if (!session || !candidate) return;
    if (session.early) session.early.push(candidate);
    else void session.pc.addIceCandidate(candidate).catch(() => {});
  }

  close(sessionId: string): void {
    this.sessions.get(sessionId)?.pc.close();
    this.sessions.delete(sessionId);
    this.report();
  }

  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id);
  }

  private report(): void {
    this.changed([...this.sessions].map(([id, s]) => ({ id, viewer: s.viewer, state: s.pc.connectionState })));
  }
}
