import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { type IceConfig, iceServers } from '../../src/core/turn.ts';

const NOW_S = 1_700_000_000;
const base: IceConfig = {
  stunUrls: ['stun:stun.example.net:3478', 'stun:stun2.example.net'],
  turnUrls: ['turn:turn.example.net:3478?transport=udp', 'turns:turn.example.net:5349'],
  turnSecret: undefined,
  turnTtlS: 3600,
};

describe('iceServers', () => {
  test('STUN urls appear one per entry as {urls}', async () => {
    const servers = await iceServers({ ...base, turnUrls: [] }, 'cam-1', NOW_S);
    assert.deepEqual(servers, [{ urls: 'stun:stun.example.net:3478' }, { urls: 'stun:stun2.example.net' }]);
  });

  test('without TURN_SECRET the TURN urls are dropped', async () => {
    const servers = await iceServers(base, 'cam-1', NOW_S);
    assert.deepEqual(servers, [{ urls: 'stun:stun.example.net:3478' }, { urls: 'stun:stun2.example.net' }]);
  });

  test('an empty TURN_SECRET counts as no secret', async () => {
    const servers = await iceServers({ ...base, turnSecret: '' }, 'cam-1', NOW_S);
    assert.equal(servers.length, 2);
  });

  test('with no urls at all the list is empty', async () => {
    assert.deepEqual(await iceServers({ ...base, stunUrls: [], turnUrls: [], turnSecret: 's' }, 'cam-1', NOW_S), []);
  });

  describe('with TURN_SECRET', () => {
    const config = { ...base, turnSecret: 'coturn-static-auth-secret' };

    test('one TURN entry follows the STUN entries and carries every TURN url', async () => {
      const servers = await iceServers(config, 'cam-1', NOW_S);
      assert.equal(servers.length, 3);
      assert.deepEqual(servers[2]?.urls, base.turnUrls);
    });

    test('the username is "<expiry>:<label>" with expiry = nowS + ttl', async () => {
      const [, , turn] = await iceServers(config, 'user-42', NOW_S);
      assert.equal(turn?.username, `${NOW_S + 3600}:user-42`);
    });

    test('the credential is base64(HMAC-SHA1(secret, username)), as coturn computes it', async () => {
      const [, , turn] = await iceServers(config, 'user-42', NOW_S);
      const expected = createHmac('sha1', 'coturn-static-auth-secret')
        .update(`${NOW_S + 3600}:user-42`)
        .digest('base64');
      assert.equal(turn?.credential, expected);
    });

    test('the credential type is password', async () => {
      const [, , turn] = await iceServers(config, 'user-42', NOW_S);
      assert.equal(turn?.credentialType, 'password');
    });

    test('another secret gives another credential', async () => {
      const [, , a] = await iceServers(config, 'user-42', NOW_S);
      const [, , b] = await iceServers({ ...config, turnSecret: 'another-secret' }, 'user-42', NOW_S);
      assert.notEqual(a?.credential, b?.credential);
    });
  });
});
