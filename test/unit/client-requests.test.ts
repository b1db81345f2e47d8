import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { EdgecamError } from '../../src/client/errors.ts';
import { type Pending, Requests } from '../../src/client/requests.ts';

/** The SDK's request books: replies by request_id, timeouts, the offline queue. */

function setup(maxQueue = 2) {
  const sent: string[] = [];
  const requests = new Requests(1000, maxQueue, (type, _payload, id) => sent.push(`${type}:${id}`));
  const outcome = new Map<string, string>();
  const pending = (name: string, expects = ['state_ack']): Pending => ({
    expects,
    resolve: () => outcome.set(name, 'resolved'),
    reject: (error: EdgecamError) => outcome.set(name, error.code),
  });
  return { requests, sent, outcome, pending };
}

test('a reply settles its request only when its type is one the request expects', () => {
  const { requests, outcome, pending } = setup();
  requests.send('r1', 'state_set', {}, pending('a'));
  assert.equal(requests.take('r1', 'state'), undefined);
  requests.take('r1', 'state_ack')?.resolve({});
  assert.equal(outcome.get('a'), 'resolved');
  assert.equal(requests.take('r1', 'state_ack'), undefined, 'settled once');
});

test('an unanswered request is rejected with timeout once its time is up, and not before', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { requests, outcome, pending } = setup();
    requests.send('r1', 'state_get', {}, pending('a'));
    mock.timers.tick(999);
    assert.equal(outcome.get('a'), undefined);
    mock.timers.tick(1);
    assert.equal(outcome.get('a'), 'timeout');
    assert.equal(requests.take('r1', 'state_ack'), undefined);
  } finally {
    mock.timers.reset();
  }
});

test('a dropped socket fails what was sent; the queue waits and goes out in order on flush', () => {
  const { requests, sent, outcome, pending } = setup();
  requests.send('r1', 'state_set', {}, pending('sent'));
  requests.enqueue('subscribe', {}, pending('q1'));
  requests.enqueue('state_get', {}, pending('q2'));
  requests.failInFlight(new EdgecamError('disconnected', 'gone'));
  assert.deepEqual([...outcome], [['sent', 'disconnected']]);
  requests.flush();
  assert.deepEqual(
    sent.map((s) => s.split(':')[0]),
    ['state_set', 'subscribe', 'state_get'],
  );
  requests.rejectAll(new EdgecamError('closed', 'closed'));
  assert.deepEqual([...outcome.values()], ['disconnected', 'closed', 'closed']);
});

test('a full queue refuses the next request with queue_full', () => {
  const { requests, outcome, pending } = setup(1);
  requests.enqueue('state_get', {}, pending('q1'));
  requests.enqueue('state_get', {}, pending('q2'));
  assert.equal(outcome.get('q1'), undefined);
  assert.equal(outcome.get('q2'), 'queue_full');
});
