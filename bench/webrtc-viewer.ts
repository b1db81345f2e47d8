import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import WebSocket from 'ws';

/**
 * A viewer for the agent bench: watches a device over /ws/viewer as the panel does (watch_request,
 * an offer, the agent's answer), with werift in place of a browser, and counts the video bytes that
 * arrive. It decodes nothing: the bench measures what the agent spends sending.
 */

interface Envelope {
  type: string;
  payload: Record<string, unknown>;
}

export class BenchViewer {
  bytes = 0;
  private constructor(
    private readonly ws: WebSocket,
    private readonly pc: RTCPeerConnection,
    private readonly session: string,
  ) {}

  static async open(wsUrl: string, token: string, deviceId: string, timeoutMs = 15_000): Promise<BenchViewer> {
    const ws = new WebSocket(`${wsUrl}/ws/viewer`);
    const inbox: Envelope[] = [];
    const waiters: (() => void)[] = [];
    ws.on('message', (data) => {
      inbox.push(JSON.parse(data.toString()));
      for (const wake of waiters.splice(0)) wake();
    });
    ws.on('error', () => {});
    const next = async (type: string): Promise<Envelope> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = inbox.findIndex((m) => m.type === type || m.type === 'error' || m.type === 'watch_ended');
        if (index >= 0) {
          const message = inbox.splice(index, 1)[0] as Envelope;
          if (message.type !== type) throw new Error(`${type} expected, got ${JSON.stringify(message)}`);
          return message;
        }
        if (Date.now() > deadline) throw new Error(`no ${type} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    };
    const send = (type: string, payload: Record<string, unknown>) => ws.send(JSON.stringify({ type, payload }));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    send('hello', { token });
    await next('hello_ack');
    send('watch_request', { device_id: deviceId });
    const ready = await next('watch_ready');
    const session = String(ready.payload.session_id);
    const pc = new RTCPeerConnection({
      iceServers: [],
      codecs: {
        audio: [],
        video: [
          new RTCRtpCodecParameters({
            mimeType: 'video/H264',
            clockRate: 90_000,
            rtcpFeedback: [{ type: 'nack' }],
            parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
          }),
        ],
      },
    });
    const viewer = new BenchViewer(ws, pc, session);
    pc.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((rtp) => {
        viewer.bytes += rtp.serializeSize;
      }),
    );
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    send('signal_offer', { session_id: session, sdp: { type: 'offer', sdp: pc.localDescription?.sdp } });
    const answer = await next('signal_answer');
    await pc.setRemoteDescription(answer.payload.sdp as { type: 'answer'; sdp: string });
    const deadline = Date.now() + timeoutMs;
    while (viewer.bytes === 0) {
      if (Date.now() > deadline) {
        await viewer.close();
        throw new Error(`no video within ${timeoutMs} ms (ICE ${pc.iceConnectionState}, connection ${pc.connectionState})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return viewer;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN)
      this.ws.send(JSON.stringify({ type: 'end_watch', payload: { session_id: this.session } }));
    await this.pc.close();
    this.ws.close();
  }
}
