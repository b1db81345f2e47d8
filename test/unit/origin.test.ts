import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { originAllowed } from '../../src/core/http/origin.ts';

describe('originAllowed', () => {
  test('the server own origin is allowed through the Host header', () => {
    assert.equal(originAllowed('http://cam.example:8000', 'cam.example:8000', []), true);
  });

  test('an origin whose host differs from Host is refused', () => {
    assert.equal(originAllowed('http://evil.example:8000', 'cam.example:8000', []), false);
  });

  test('an origin on another port than Host is refused', () => {
    assert.equal(originAllowed('http://cam.example:9000', 'cam.example:8000', []), false);
  });

  test('without a Host header only listed origins are allowed', () => {
    assert.equal(originAllowed('http://cam.example:8000', undefined, []), false);
  });

  test('a listed origin is allowed', () => {
    assert.equal(originAllowed('https://app.example', 'cam.example', ['https://other.example', 'https://app.example']), true);
  });

  test('a listed origin is allowed when the browser adds a trailing slash', () => {
    assert.equal(originAllowed('https://app.example/', 'cam.example', ['https://app.example']), true);
  });

  test('an origin that is not listed is refused', () => {
    assert.equal(originAllowed('https://evil.example', 'cam.example', ['https://app.example']), false);
  });

  test('a listed origin does not allow its subdomains or other schemes', () => {
    const allowed = ['https://app.example'];
    assert.equal(originAllowed('https://evil.app.example', 'cam.example', allowed), false);
    assert.equal(originAllowed('http://app.example', 'cam.example', allowed), false);
  });

  test('* allows any origin', () => {
    assert.equal(originAllowed('https://anything.example', 'cam.example', ['*']), true);
  });

  for (const origin of ['null', 'not a url', '', '://']) {
    test(`a malformed origin is refused: ${JSON.stringify(origin)}`, () => {
      assert.equal(originAllowed(origin, 'cam.example', ['https://app.example']), false);
    });
  }
});
