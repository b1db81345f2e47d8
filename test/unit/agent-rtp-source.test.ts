import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, test } from 'node:test';
import { RtpSource } from '../../src/agent/webrtc/rtp-source.ts';
import { createLogger } from '../../src/core/log.ts';
import { eventually } from '../helpers/eventually.ts';
import { freeRtpPort } from '../helpers/media.ts';

/** The RTP port the stream publishes to: real UDP on loopback. */

const sender = createSocket('udp4');
after(() => sender.close());

/** A minimal RTP packet: version 2, payload type 96, the given SSRC and sequence number. */
function rtp(ssrc: number, seq: number): Buffer {
  const packet = Buffer.alloc(12 + 4);
  packet[0] = 0x80;
  packet[1] = 96;
  packet.writeUInt16BE(seq, 2);
  packet.writeUInt32BE(seq * 3000, 4);
  packet.writeUInt32BE(ssrc, 8);
  return packet;
}

function send(port: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => sender.send(data, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
}

test('packets reach every listener; a new SSRC is flagged as a new stream; what is not RTP is dropped', async () => {
  const lines: string[] = [];
  const source = new RtpSource(
    await freeRtpPort(),
    createLogger('info', (line) => lines.push(line)),
  );
  await source.bind();
  const seen: string[] = [];
  const unsubscribe = source.subscribe((packet, newStream) =>
    seen.push(`${packet.header.ssrc}/${packet.header.sequenceNumber}${newStream ? ' new' : ''}`),
  );
  assert.equal(await source.waitForVideo(50), false, 'nothing has arrived');
  assert.match(source.status(), /^no video arriving on rtp:\/\/127\.0\.0\.1:\d+\?pkt_size=1200$/);

  const arrived = source.waitForVideo(2_000);
  await send(source.port, rtp(111, 1));
  assert.equal(await arrived, true);
  await send(source.port, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  await send(source.port, rtp(111, 2));
  await send(source.port, rtp(222, 9));
  await eventually('three packets', () => seen.length >= 3);
  assert.deepEqual(seen, ['111/1 new', '111/2', '222/9 new']);
  assert.equal(await source.waitForVideo(0), true, 'at once while video flows');
  assert.deepEqual(source.stats(), { packets: 3, bytes: 48, flowing: true });
  assert.ok(lines.some((l) => /info video arriving .*ssrc=111/.test(l)));
  assert.ok(lines.some((l) => /info video arriving from a new stream .*ssrc=222/.test(l)));
  assert.ok(lines.some((l) => /warn ignoring UDP packets that are not RTP/.test(l)));

  unsubscribe();
  // A listener still subscribed gets the next packet: by then the one that left would have had it too.
  const next = new Promise<number>((resolve) => {
    const stop = source.subscribe((packet) => {
      stop();
      resolve(packet.header.sequenceNumber);
    });
  });
  await send(source.port, rtp(222, 10));
  assert.equal(await next, 10);
  assert.equal(seen.length, 3, 'no packets after unsubscribing');
  await source.close();
});

test('a port in use is an error that says what to do', async () => {
  const port = await freeRtpPort();
  const first = new RtpSource(port, createLogger('silent'));
  await first.bind();
  const second = new RtpSource(port, createLogger('silent'));
  await assert.rejects(
    second.bind(),
    /UDP port \d+ on 127\.0\.0\.1 is in use \(another agent\?\): choose another with --rtp-port/,
  );
  await first.close();
});
