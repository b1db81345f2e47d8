import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Options, parseOptions, UsageError } from '../../src/agent/options.ts';
import { makeTestCertificates, type TestCertificates } from '../helpers/tls.ts';

const required = ['--server', 'http://pi-host:8000', '--device', 'cam-1', '--key', 'secret-key'];
const parse = (argv: string[], env: Record<string, string> = {}) => parseOptions(argv, env, '/home/pi') as Options;
const refused = (argv: string[], env: Record<string, string>, message: RegExp) =>
  assert.throws(
    () => parseOptions(argv, env, '/home/pi'),
    (error: Error) => error instanceof UsageError && message.test(error.message),
  );

test('the required flags, with the defaults for everything else', () => {
  const o = parse(required);
  assert.equal(o.server.href, 'http://pi-host:8000/');
  assert.equal(o.device, 'cam-1');
  assert.equal(o.key, 'secret-key');
  assert.equal(o.protocol, 'protobuf');
  assert.equal(o.apply, undefined);
  assert.equal(o.stream, undefined);
  assert.equal(o.simulate, false);
  assert.equal(o.stateFile, '/home/pi/.edgecam-agent-cam-1.json');
});

test('every option can come from EDGECAM_* variables', () => {
  const o = parse([], {
    EDGECAM_SERVER: 'https://cams.example.com/edgecam',
    EDGECAM_DEVICE: 'porch',
    EDGECAM_KEY: 'k',
    EDGECAM_PROTOCOL: 'json',
    EDGECAM_APPLY: './apply.sh',
    EDGECAM_STREAM: 'rpicam-vid -o - | ffmpeg -i - -f rtsp rtsp://localhost:8554/cam',
    EDGECAM_SIMULATE: 'true',
    EDGECAM_STATE_FILE: '/var/lib/edgecam/state.json',
  });
  assert.equal(o.server.href, 'https://cams.example.com/edgecam');
  assert.equal(o.device, 'porch');
  assert.equal(o.protocol, 'json');
  assert.equal(o.apply, './apply.sh');
  assert.match(o.stream ?? '', /ffmpeg/);
  assert.equal(o.simulate, true);
  assert.equal(o.stateFile, '/var/lib/edgecam/state.json');
});

test('flags win over the environment; empty variables count as unset', () => {
  const o = parse([...required, '--protocol', 'json', '--simulate'], {
    EDGECAM_DEVICE: 'other',
    EDGECAM_PROTOCOL: 'protobuf',
    EDGECAM_SIMULATE: 'false',
    EDGECAM_APPLY: '',
  });
  assert.equal(o.device, 'cam-1');
  assert.equal(o.protocol, 'json');
  assert.equal(o.simulate, true);
  assert.equal(o.apply, undefined);
});

test('--help is not an error', () => {
  assert.equal(parseOptions(['--help'], {}), 'help');
});

test('missing or bad options are usage errors that name the option', () => {
  refused([], {}, /--server is required/);
  refused(['--server', 'http://h:8000', '--key', 'k'], {}, /--device is required/);
  refused(['--server', 'http://h:8000', '--device', 'd'], {}, /--key is required/);
  refused(['--server', 'pi-host:8000', '--device', 'd', '--key', 'k'], {}, /--server must start with http/);
  refused(['--server', 'not a url', '--device', 'd', '--key', 'k'], {}, /--server must be a URL/);
  refused(['--server', 'http://h:8000/?device=x', '--device', 'd', '--key', 'k'], {}, /no \?query/);
  refused([...required.slice(0, 2), '--device', 'bad id!', '--key', 'k'], {}, /--device must be 1-64/);
  refused([...required, '--protocol', 'mqtt'], {}, /--protocol must be protobuf or json/);
  refused([...required, '--apply', '  '], {}, /--apply is empty/);
  refused(required, { EDGECAM_SIMULATE: 'maybe' }, /EDGECAM_SIMULATE must be true or false/);
  refused([...required, '--sever', 'x'], {}, /Unknown option '--sever'/);
  refused([...required, 'extra'], {}, /Unexpected argument 'extra'/);
  refused([...required.slice(0, 4), '--key'], {}, /--key/);
});

test('a usage error never contains the key', () => {
  try {
    parseOptions(['--server', 'ftp://h', '--device', 'd', '--key', 'super-secret-key'], {});
    assert.fail('should have thrown');
  } catch (error) {
    assert.doesNotMatch((error as Error).message, /super-secret-key/);
  }
});

test('WebRTC is off unless asked for; rtp and whep take their options from flags or EDGECAM_*', () => {
  assert.deepEqual(parse(required).webrtc, {
    mode: 'off',
    rtpPort: 5004,
    codec: 'h264',
    whepUrl: undefined,
    iceTransport: 'all',
    maxWatchers: 8,
  });
  const rtp = parse([...required, '--webrtc', 'rtp', '--rtp-port', '6000', '--video-codec', 'vp8', '--ice-transport', 'relay']);
  assert.deepEqual(
    { ...rtp.webrtc },
    { mode: 'rtp', rtpPort: 6000, codec: 'vp8', whepUrl: undefined, iceTransport: 'relay', maxWatchers: 8 },
  );
  const whep = parse(required, {
    EDGECAM_WEBRTC: 'WHEP',
    EDGECAM_WHEP_URL: 'http://127.0.0.1:8889/cam/whep',
    EDGECAM_MAX_WATCHERS: '3',
  }).webrtc;
  assert.equal(whep.mode, 'whep');
  assert.equal(whep.whepUrl?.href, 'http://127.0.0.1:8889/cam/whep');
  assert.equal(whep.maxWatchers, 3);
});

test('bad WebRTC options are usage errors that say what is wanted', () => {
  refused([...required, '--webrtc', 'yes'], {}, /--webrtc must be off, rtp or whep/);
  refused([...required, '--webrtc', 'whep'], {}, /--webrtc whep needs --whep-url/);
  refused([...required, '--whep-url', 'rtsp://127.0.0.1:8554/cam'], {}, /--whep-url must start with http/);
  refused([...required, '--rtp-port', '80'], {}, /--rtp-port must be 1024-65534/);
  refused([...required, '--rtp-port', '65535'], {}, /--rtp-port must be 1024-65534/);
  refused([...required, '--rtp-port', 'five'], {}, /--rtp-port must be a port number/);
  refused([...required, '--video-codec', 'h265'], {}, /--video-codec must be h264 or vp8/);
  refused([...required, '--ice-transport', 'tcp'], {}, /--ice-transport must be all or relay/);
  refused([...required, '--max-watchers', '0'], {}, /--max-watchers must be 1-64/);
});

describe('--ca', () => {
  let certs: TestCertificates;
  before(() => {
    certs = makeTestCertificates();
  });
  after(() => certs?.remove());

  test('is unset by default', () => {
    assert.equal(parse(required).ca, undefined);
  });

  test('reads the CA certificate from the flag or EDGECAM_CA', () => {
    assert.deepEqual(parse([...required, '--ca', certs.caFile]).ca, { file: certs.caFile, pem: certs.ca });
    assert.deepEqual(parse(required, { EDGECAM_CA: certs.caFile }).ca, { file: certs.caFile, pem: certs.ca });
  });

  test('a file that cannot be read, or is not a certificate, is a usage error', () => {
    refused([...required, '--ca', join(certs.dir, 'missing.pem')], {}, /--ca .*missing\.pem: cannot read it \(ENOENT/);
    refused([...required, '--ca', certs.caKeyFile], {}, /--ca .*ca\.key: not a PEM certificate.*never its private key/);
  });
});
