import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import type { Peer, PeerEvents } from '../../src/agent/webrtc/peer.ts';
import { whepBackend } from '../../src/agent/webrtc/whep-backend.ts';
import { createLogger } from '../../src/core/log.ts';
import { eventually } from '../helpers/eventually.ts';
import { freePort } from '../helpers/media.ts';

/**
 * The WHEP bridge's HTTP, against a scripted server on loopback: what it POSTs, PATCHes and DELETEs,
 * and what it makes of each answer. (Video through it is tested in test/agent/webrtc.test.ts.)
 */

interface Seen {
  method: string;
  path: string;
  type: string | undefined;
  body: string;
}

let seen: Seen[] = [];
let reply: (req: Seen, res: ServerResponse) => unknown;
let base: string;
const http = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.on('data', (chunk) => {
    body += chunk;
  });
  req.on('end', () => {
    const entry = { method: req.method ?? '', path: req.url ?? '', type: req.headers['content-type'], body };
    seen.push(entry);
    void reply(entry, res);
  });
});

before(async () => {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
after(() => new Promise((resolve) => http.close(resolve)));
beforeEach(() => {
  seen = [];
});

const OFFER = 'v=0\r\na=ice-ufrag:uf\r\na=ice-pwd:pw\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n';
const ANSWER = 'v=0\r\ns=answer\r\n';
const events: PeerEvents = { candidate: () => {}, connected: () => {}, failed: () => {} };
const candidate = (n: number) => ({ candidate: `candidate:${n} 1 udp 1 10.0.0.${n} 9 typ host`, sdpMid: '0' });
const until = (check: () => boolean) => eventually('the requests expected', check, { ms: 2_000 });

function open(url = `${base}/cam/whep`, publisherWaitMs = 700, log = createLogger('silent')): Peer {
  return whepBackend({ url: new URL(url), log, publisherWaitMs }).open({ session: 's', user: 'alice', iceServers: [] }, events);
}

/** As MediaMTX: 201 with a relative Location, PATCH 204, DELETE 200. */
const mediamtx = (req: Seen, res: ServerResponse) => {
  if (req.method === 'POST')
    res.writeHead(201, { 'content-type': 'application/sdp', location: '/cam/whep/1234', etag: '*' }).end(ANSWER);
  else if (req.method === 'PATCH') setTimeout(() => res.writeHead(204).end(), 50);
  else res.writeHead(200).end();
};

test('POST the offer, answer with the body; candidates PATCHed to the Location as an sdpfrag; DELETE at the end', async () => {
  reply = mediamtx;
  const peer = open();
  peer.addCandidate(candidate(1));
  const answer = await peer.answer(OFFER);
  assert.equal(answer, ANSWER);
  assert.deepEqual(seen[0], { method: 'POST', path: '/cam/whep', type: 'application/sdp', body: OFFER });
  await until(() => seen.length === 2);
  // While that PATCH is on its way, two more candidates come: they go together in the next one.
  peer.addCandidate(candidate(2));
  peer.addCandidate(candidate(3));
  peer.addCandidate({ candidate: '', sdpMid: '0' });
  await until(() => seen.length === 3);
  const [first, second] = [seen[1] as Seen, seen[2] as Seen];
  assert.equal(first.path, '/cam/whep/1234');
  assert.equal(first.type, 'application/trickle-ice-sdpfrag');
  assert.equal(
    first.body,
    `a=ice-ufrag:uf\r\na=ice-pwd:pw\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=${candidate(1).candidate}\r\n`,
  );
  assert.match(second.body, /a=candidate:2 .*\r\na=candidate:3 /);
  peer.close();
  peer.close();
  await until(() => seen.length === 4);
  assert.deepEqual([seen[3]?.method, seen[3]?.path], ['DELETE', '/cam/whep/1234']);
});

test('a 404 (nothing publishes yet) is retried until the publisher appears', async () => {
  let posts = 0;
  reply = (req, res) => {
    if (req.method === 'POST' && ++posts < 3)
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no stream"}');
    else mediamtx(req, res);
  };
  const peer = open(undefined, 3_000);
  assert.equal(await peer.answer(OFFER), ANSWER);
  assert.equal(posts, 3);
  peer.close();
});

test('what the viewer is told when the WHEP server cannot serve the watch', async () => {
  reply = (_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no stream"}');
  await assert.rejects(open().answer(OFFER), {
    name: 'WatchRefused',
    message: `nothing is publishing on ${base}/cam/whep (404): is the camera's stream running?`,
  });
  reply = (_req, res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid\n  offer"}');
  await assert.rejects(open().answer(OFFER), {
    message: `the camera's WHEP server refused the watch: 400 {"error":"invalid offer"}`,
  });
  reply = (_req, res) => res.writeHead(201).end('<html>not sdp</html>');
  await assert.rejects(open().answer(OFFER), { message: "the camera's WHEP server answered without an SDP answer" });
  const closed = await freePort();
  await assert.rejects(open(`http://127.0.0.1:${closed}/cam/whep`).answer(OFFER), {
    message: `the camera's WHEP server http://127.0.0.1:${closed}/cam/whep cannot be reached (ECONNREFUSED)`,
  });
});

test('as go2rtc: no Location, so nothing is PATCHed or DELETEd', async () => {
  reply = (_req, res) => res.writeHead(201, { 'content-type': 'application/sdp' }).end(ANSWER);
  const peer = open(`${base}/api/webrtc?src=cam`);
  assert.equal(await peer.answer(OFFER), ANSWER);
  peer.addCandidate(candidate(1));
  peer.close();
  // Proving nothing happens: a DELETE or PATCH sent on close would arrive within this.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(
    seen.map((s) => `${s.method} ${s.path}`),
    ['POST /api/webrtc?src=cam'],
  );
});

test('a PATCH answered 405 stops the trickling', async () => {
  reply = (req, res) => {
    if (req.method === 'PATCH') res.writeHead(405).end();
    else mediamtx(req, res);
  };
  const lines: string[] = [];
  const peer = open(
    undefined,
    undefined,
    createLogger('info', (line) => lines.push(line)),
  );
  await peer.answer(OFFER);
  peer.addCandidate(candidate(1));
  await eventually('the 405 taken in', () => lines.some((line) => line.includes('takes no trickled candidates')));
  peer.addCandidate(candidate(2));
  // The session is still DELETEd at the end; a second PATCH would have been sent before it.
  peer.close();
  await until(() => seen.some((s) => s.method === 'DELETE'));
  assert.deepEqual(
    seen.map((s) => s.method),
    ['POST', 'PATCH', 'DELETE'],
  );
});

test('a watch that ends while the POST is on its way leaves no session behind on the server', async () => {
  reply = (req, res) => {
    if (req.method === 'POST') setTimeout(() => mediamtx(req, res), 100);
    else mediamtx(req, res);
  };
  const peer = open();
  const answering = peer.answer(OFFER);
  peer.close();
  await assert.rejects(answering, { name: 'WatchRefused' });
  await until(() => seen.some((s) => s.method === 'DELETE'));
  assert.equal(seen.find((s) => s.method === 'DELETE')?.path, '/cam/whep/1234');
});
