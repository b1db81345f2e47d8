import type { EdgecamViewer, IceCandidate } from '../../client/index.ts';

/**
 * Watching a device: a receive-only RTCPeerConnection whose offer, answer and candidates travel over
 * the viewer socket (watch_request → watch_ready → signal_offer ⇄ signal_answer, signal_ice both ways).
 */

export type WatchStatus = 'requesting' | 'connecting' | 'live' | 'ended';

export interface Watch {
  stop(): Promise<void>;
}

export async function watch(
  viewer: EdgecamViewer,
  deviceId: string,
  video: HTMLVideoElement,
  onStatus: (status: WatchStatus, detail?: string) => void,
): Promise<Watch> {
  onStatus('requesting');
  const ready = await viewer.watch(deviceId);
  const session = ready.session_id;
  // From here on the server holds a session: anything that fails must end it, not leave it open.
  const giveUp = (error: unknown): never => {
    void viewer.endWatch(session).catch(() => {});
    throw error;
  };
  let pc: RTCPeerConnection;
  try {
    pc = new RTCPeerConnection({ iceServers: ready.ice_servers as RTCIceServer[] });
  } catch (error) {
    return giveUp(error); // say, an ICE server URL this browser does not accept
  }
  // Candidates can arrive before the answer they belong to; they wait for it.
  let early: IceCandidate[] | null = [];
  let ended = false;

  const end = (detail: string) => {
    if (ended) return;
    ended = true;
    for (const off of offs) off();
    pc.close();
    video.srcObject = null;
    onStatus('ended', detail);
  };
  const mine = (m: { session_id: string }) => m.session_id === session;
  // A description this browser refuses (a camera's malformed SDP) ends the watch with a reason, not an unhandled rejection.
  const unusable = (step: () => Promise<void>) =>
    void step().catch((error: Error) => {
      end(`the camera's video description cannot be used here (${error.message})`);
      void viewer.endWatch(session).catch(() => {});
    });
  const offs = [
    viewer.on('signal_answer', (m) => {
      if (!mine(m)) return;
      unusable(async () => {
        await pc.setRemoteDescription(m.sdp as RTCSessionDescriptionInit);
        // One candidate this browser cannot use is skipped, as a late one is below; it does not end the watch.
        for (const candidate of early ?? []) await pc.addIceCandidate(candidate).catch(() => {});
        early = null;
      });
    }),
    viewer.on('signal_offer', (m) => {
      // The device renegotiates (say, after a resolution change): answer it.
      if (!mine(m)) return;
      unusable(async () => {
        await pc.setRemoteDescription(m.sdp as RTCSessionDescriptionInit);
        await pc.setLocalDescription(await pc.createAnswer());
        viewer.sendAnswer(session, (pc.localDescription as RTCSessionDescription).toJSON());
      });
    }),
    viewer.on('signal_ice', (m) => {
      if (!mine(m) || !m.candidate) return;
      if (early) early.push(m.candidate);
      else void pc.addIceCandidate(m.candidate).catch(() => {});
    }),
    viewer.on('watch_ended', (m) => mine(m) && end(endedText(m.reason, m.message))),
  ];

  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.ontrack = (e) => {
    video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
    void video.play().catch(() => {});
  };
  pc.onicecandidate = (e) => !ended && viewer.connected && viewer.sendIce(session, e.candidate?.toJSON() as IceCandidate | null);
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'connected') onStatus('live');
    if (pc.connectionState === 'failed') end('the video connection failed (no network path between this browser and the camera)');
  };
  onStatus('connecting');
  try {
    await pc.setLocalDescription(await pc.createOffer());
    viewer.sendOffer(session, (pc.localDescription as RTCSessionDescription).toJSON() as { type: 'offer'; sdp: string });
  } catch (error) {
    end(`the video could not start (${(error as Error).message})`);
    return giveUp(error);
  }

  return {
    async stop() {
      if (ended) return;
      end('stopped');
      await viewer.endWatch(session).catch(() => {});
    },
  };
}

function endedText(reason: string, message: string | undefined): string {
  switch (reason) {
    case 'device_disconnected':
      return 'the camera disconnected';
    case 'viewer_disconnected':
      return 'this page lost its connection';
    case 'timeout':
      return 'the camera did not answer';
    case 'error':
      return message ? `the camera could not stream: ${message}` : 'the camera could not stream';
    default:
      return reason.replace(/_/g, ' ');
  }
}
