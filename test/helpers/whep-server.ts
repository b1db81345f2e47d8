import { createSocket } from 'node:dgram';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpPacket } from 'werift';
import { type Child, spawnChild } from '../../scripts/child-process.ts';
import { eventually } from './eventually.ts';
import { freeRtpPort, testStream } from './media.ts';

/**
 * A small WHEP server for the agent's `--webrtc whep` bridge, behaving as the two servers people run
 * next to a camera do:
 * - `mediamtx`: `POST /cam/whep` (`application/sdp` only) → 201, the full answer (all candidates, no
 *   trickling), a relative `Location: /cam/whep/<uuid>`, `ETag`; 404 while nothing publishes on the
 *   path; `PATCH` of `application/trickle-ice-sdpfrag` with a numeric `a=mid` → 204; `DELETE` → 200.
 * - `go2rtc`: `POST /api/webrtc?src=cam` → 201 with the answer and no `Location`; `PATCH` → 405.
 * Its video is an ffmpeg test pattern it publishes to itself over RTP once `publish()` is called.
 */

export interface WhepRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string;
  status: number;
}

export interface WhepServer {
  /** The endpoint to give the agent's --whep-url. */
  url: string;
  requests: WhepRequest[];
  /** The viewer candidates PATCHed in, as the server parsed them. */
  candidates: string[];
  /** Peer connections open now. */
  sessions(): number;
  publish(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWhepServer(flavor: 'mediamtx' | 'go2rtc'): Promise<WhepServer> {
  const sessions = new Map<string, RTCPeerConnection>();
  const tracks = new Set<MediaStreamTrack>();
  const requests: WhepRequest[] = [];
  const candidates: string[] = [];
  let publishing = false;
  let publisher: Child | undefined;

  const rtpPort = await freeRtpPort();
  const udp = createSocket('udp4');
  udp.on('message', (data) => {
    publishing = true;
    const packet = RtpPacket.deSerialize(data);
    for (const track of tracks) track.writeRtp(packet);
  });
  await new Promise<void>((resolve) => udp.bind(rtpPort, '127.0.0.1', resolve));

  async function answer(offer: string): Promise<{ id: string; sdp: string }> {
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
    const track = new MediaStreamTrack({ kind: 'video' });
    tracks.add(track);
    pc.addTransceiver(track, { direction: 'sendonly' });
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'closed') tracks.delete(track);
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    const id = crypto.randomUUID();
    sessions.set(id, pc);
    return { id, sdp: pc.localDescription?.sdp as string };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<number> {
    const url = new URL(req.url ?? '/', 'http://whep');
    const type = req.headers['content-type']?.split(';')[0]?.trim();
    const json = (status: number, error: string) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
      return status;
    };
    const post = flavor === 'mediamtx' ? url.pathname === '/cam/whep' : url.pathname === '/api/webrtc';
    if (post && req.method === 'POST') {
      if (flavor === 'mediamtx' && type !== 'application/sdp') return json(400, 'invalid Content-Type');
      if (!publishing) return json(404, "no stream is available on path 'cam'");
      const { id, sdp } = await answer(body);
      const headers: Record<string, string> = { 'content-type': 'application/sdp' };
      if (flavor === 'mediamtx') Object.assign(headers, { location: `/cam/whep/${id}`, etag: '*' });
      res.writeHead(201, headers).end(sdp);
      return 201;
    }
    const session = /^\/cam\/whep\/([0-9a-f-]+)$/.exec(url.pathname)?.[1];
    if (flavor === 'go2rtc' || !session) {
      res.writeHead(req.method === 'PATCH' ? 405 : 404).end();
      return req.method === 'PATCH' ? 405 : 404;
    }
    const pc = sessions.get(session);
    if (!pc) return json(404, 'session not found');
    if (req.method === 'DELETE') {
      sessions.delete(session);
      await pc.close();
      res.writeHead(200).end();
      return 200;
    }
    if (req.method === 'PATCH') {
      if (type !== 'application/trickle-ice-sdpfrag') return json(400, 'invalid Content-Type');
      // As MediaMTX reads it: each m= section needs a numeric a=mid, taken as the m-line index.
      let mid: string | undefined;
      for (const line of body.split(/\r?\n/)) {
        if (line.startsWith('m=')) mid = undefined;
        else if (line.startsWith('a=mid:')) mid = line.slice(6);
        else if (line.startsWith('a=candidate:')) {
          if (mid === undefined || !/^\d+$/.test(mid)) return json(400, 'invalid mid attribute');
          candidates.push(line.slice(2));
          await pc.addIceCandidate({ candidate: line.slice(2), sdpMid: mid, sdpMLineIndex: Number(mid) }).catch(() => {});
        }
      }
      res.writeHead(204).end();
      return 204;
    }
    return json(405, 'method not allowed');
  }

  const http = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      handle(req, res, body).then(
        (status) =>
          requests.push({
            method: req.method ?? '',
            path: req.url ?? '',
            contentType: req.headers['content-type'],
            body,
            status,
          }),
        (error) => res.writeHead(500).end(String(error)),
      );
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  return {
    url: flavor === 'mediamtx' ? `http://127.0.0.1:${port}/cam/whep` : `http://127.0.0.1:${port}/api/webrtc?src=cam`,
    requests,
    candidates,
    sessions: () => sessions.size,
    async publish() {
      // In its own group: the kill reaches ffmpeg, not only the shell.
      publisher = spawnChild(['sh', '-c', testStream('h264', `'rtp://127.0.0.1:${rtpPort}?pkt_size=1200'`)], { group: true });
      await eventually('RTP from the test publisher', () => publishing, { ms: 10_000 });
    },
    async stop() {
      publisher?.signal('SIGKILL');
      await Promise.all([...sessions.values()].map((pc) => pc.close()));
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      udp.close();
    },
  };
}
