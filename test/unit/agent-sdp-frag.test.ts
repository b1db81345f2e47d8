import assert from 'node:assert/strict';
import { test } from 'node:test';
import { offerIce, sdpFragment } from '../../src/agent/webrtc/sdp-frag.ts';

/** An offer as Chromium makes it for a receive-only video watch (trimmed), with a data channel besides. */
const offer = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 102',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:tUQM',
  'a=ice-pwd:pimyGfJcjjRwvUjnmGOODSjt',
  'a=ice-options:trickle',
  'a=mid:0',
  'a=recvonly',
  'a=rtpmap:96 VP8/90000',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=ice-ufrag:tUQM',
  'a=ice-pwd:pimyGfJcjjRwvUjnmGOODSjt',
  'a=mid:1',
  '',
].join('\r\n');

test("an offer's ICE credentials and media sections, by mid", () => {
  assert.deepEqual(offerIce(offer), {
    ufrag: 'tUQM',
    pwd: 'pimyGfJcjjRwvUjnmGOODSjt',
    media: [
      { mline: 'video 9 UDP/TLS/RTP/SAVPF 96 102', mid: '0' },
      { mline: 'application 9 UDP/DTLS/SCTP webrtc-datachannel', mid: '1' },
    ],
  });
  assert.equal(offerIce('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n'), undefined, 'no ICE credentials');
});

test('the trickle-ice-sdpfrag MediaMTX reads: credentials, then each section with candidates', () => {
  const ice = offerIce(offer);
  assert.ok(ice);
  const fragment = sdpFragment(ice, [
    { candidate: 'candidate:3628911098 1 udp 2130706431 192.168.3.218 49462 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    { candidate: 'candidate:1 1 udp 1694498815 203.0.113.7 40000 typ srflx raddr 0.0.0.0 rport 0', sdpMid: '0' },
    // Only the index: sections are matched by position.
    { candidate: 'candidate:2 1 udp 2130706431 192.168.3.218 49463 typ host', sdpMLineIndex: 1 },
  ]);
  assert.equal(
    fragment,
    'a=ice-ufrag:tUQM\r\na=ice-pwd:pimyGfJcjjRwvUjnmGOODSjt\r\n' +
      'm=video 9 UDP/TLS/RTP/SAVPF 96 102\r\na=mid:0\r\n' +
      'a=candidate:3628911098 1 udp 2130706431 192.168.3.218 49462 typ host\r\n' +
      'a=candidate:1 1 udp 1694498815 203.0.113.7 40000 typ srflx raddr 0.0.0.0 rport 0\r\n' +
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n' +
      'a=candidate:2 1 udp 2130706431 192.168.3.218 49463 typ host\r\n',
  );
});

test('a section without candidates is left out', () => {
  const ice = offerIce(offer);
  assert.ok(ice);
  assert.doesNotMatch(sdpFragment(ice, [{ candidate: 'candidate:9 1 udp 1 10.0.0.1 9 typ host', sdpMid: '0' }]), /application/);
});
