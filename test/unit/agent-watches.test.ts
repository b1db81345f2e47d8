import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type IceCandidate,
  type Peer,
  type PeerBackend,
  type PeerEvents,
  WatchRefused,
  type WatchRequest,
} from '../../src/agent/webrtc/peer.ts';
import { Watches, type WatchSignals } from '../../src/agent/webrtc/watches.ts';
import { createLogger } from '../../src/core/log.ts';

/** The agent's watch sessions with a scripted backend: what reaches the peer, and what the server is sent. */

class FakePeer implements Peer {
  readonly candidates: IceCandidate[] = [];
  closed = 0;
  answers: ((sdp: string) => void)[] = [];
  refusals: ((error: Error) => void)[] = [];

  constructor(
    readonly request: WatchRequest,
    readonly events: PeerEvents,
  ) {}

  answer(offer: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.answers.push(() => resolve(`answer to ${offer}`));
      this.refusals.push(reject);
    });
  }
  addCandidate(candidate: IceCandidate): void {
    this.candidates.push(candidate);
  }
  close(): void {
    this.closed++;
  }
}

function setup(maxWatchers = 2) {
  const peers: FakePeer[] = [];
  const sent: string[] = [];
  let streamStarts = 0;
  const backend: PeerBackend = {
    mode: 'rtp',
    open: (request, events) => {
      const peer = new FakePeer(request, events);
      peers.push(peer);
      return peer;
    },
    describe: () => ({}),
    streamEnv: () => ({}),
    status: () => 'test',
    close: async () => {},
  };
  const signals: WatchSignals = {
    answer: (session, sdp) => sent.push(`answer ${session} ${sdp}`),
    candidate: (session, c) => sent.push(`ice ${session} ${c.candidate}`),
    end: (session, message) => sent.push(`end ${session} ${message}`),
  };
  const watches = new Watches(backend, signals, createLogger('silent'), {
    maxWatchers,
    beforeWatch: () => streamStarts++,
  });
  return { watches, peers, sent, starts: () => streamStarts };
}

const request = (session: string): WatchRequest => ({ session, user: 'alice', iceServers: [{ urls: 'stun:stun.test' }] });
const candidate = (n: number): IceCandidate => ({ candidate: `candidate:${n} 1 udp 1 10.0.0.${n} 9 typ host`, sdpMid: '0' });
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('each watch gets its own peer, built with its request, and asks for the stream first', () => {
  const { watches, peers, starts } = setup();
  watches.request(request('s1'));
  watches.request(request('s2'));
  watches.request(request('s1'));
  assert.equal(peers.length, 2, 'a repeated request is the same watch');
  assert.deepEqual(peers[0]?.request.iceServers, [{ urls: 'stun:stun.test' }]);
  assert.equal(starts(), 2);
  assert.equal(watches.count, 2);
});

test('a watch over the limit is ended at once, with a message, and opens nothing', () => {
  const { watches, peers, sent } = setup(1);
  watches.request(request('s1'));
  watches.request(request('s2'));
  assert.equal(peers.length, 1);
  assert.deepEqual(sent, ['end s2 this camera serves at most 1 viewers at once']);
});

test("the viewer's candidates wait for the answer; the end-of-candidates marker is dropped", async () => {
  const { watches, peers, sent } = setup();
  watches.request(request('s1'));
  watches.candidate('s1', candidate(1));
  watches.offer('s1', 'offer-1');
  watches.candidate('s1', candidate(2));
  watches.candidate('s1', null);
  const peer = peers[0] as FakePeer;
  assert.deepEqual(peer.candidates, [], 'nothing before the answer');
  peer.answers[0]?.('');
  await settle();
  assert.deepEqual(sent, ['answer s1 answer to offer-1']);
  assert.deepEqual(peer.candidates, [candidate(1), candidate(2)]);
  watches.candidate('s1', candidate(3));
  assert.deepEqual(peer.candidates.at(-1), candidate(3));
});

test("a peer's own candidates go to the viewer while its watch lasts", () => {
  const { watches, peers, sent } = setup();
  watches.request(request('s1'));
  peers[0]?.events.candidate(candidate(7));
  watches.ended('s1', 'user_ended');
  peers[0]?.events.candidate(candidate(8));
  assert.deepEqual(sent, [`ice s1 ${candidate(7).candidate}`]);
});

test('a refused answer ends the watch with its message; another failure with a plain one', async () => {
  const { watches, peers, sent } = setup();
  watches.request(request('s1'));
  watches.request(request('s2'));
  watches.offer('s1', 'o');
  watches.offer('s2', 'o');
  peers[0]?.refusals[0]?.(new WatchRefused('the viewer does not accept VP8'));
  peers[1]?.refusals[0]?.(new Error('werift broke'));
  await settle();
  assert.deepEqual(sent, ['end s1 the viewer does not accept VP8', 'end s2 the camera could not answer the video offer']);
  assert.deepEqual(
    peers.map((p) => p.closed),
    [1, 1],
  );
  assert.equal(watches.count, 0);
});

test('a peer that fails ends its watch once; later events of that peer are ignored', () => {
  const { watches, peers, sent } = setup();
  watches.request(request('s1'));
  peers[0]?.events.failed('no video');
  peers[0]?.events.failed('no video');
  assert.deepEqual(sent, ['end s1 no video']);
  assert.equal(peers[0]?.closed, 1);
});

test('the server ending a watch, or the link dropping, closes the peers without an end_watch', async () => {
  const { watches, peers, sent } = setup(3);
  for (const s of ['s1', 's2', 's3']) watches.request(request(s));
  watches.offer('s1', 'o');
  watches.ended('s1', 'user_ended');
  peers[0]?.answers[0]?.('');
  await settle();
  assert.deepEqual(sent, [], 'an answer that comes after the end is not sent');
  watches.offline();
  assert.deepEqual(
    peers.map((p) => p.closed),
    [1, 1, 1],
  );
  assert.equal(watches.count, 0);
  watches.offer('s2', 'late');
  assert.deepEqual(sent, []);
});

test('a second offer in a session is ignored, not answered twice', () => {
  const { watches, peers } = setup();
  watches.request(request('s1'));
  watches.offer('s1', 'o1');
  watches.offer('s1', 'o2');
  assert.equal(peers[0]?.answers.length, 1);
});
