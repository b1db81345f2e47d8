import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Emitter } from '../../src/client/emitter.ts';
import type { EdgecamViewer } from '../../src/client/index.ts';
import { LiveDevices } from '../../src/web/panel/live.ts';

/** The panel's shared subscriptions: a device leaves only when the last view holding it lets go. */

function fakeViewer() {
  const calls: string[] = [];
  const viewer = {
    subscribe: async (ids: string[]) => {
      calls.push(`subscribe ${ids.join(',')}`);
      return { device_ids: ids, not_found: [] };
    },
    unsubscribe: async (ids: string[]) => {
      calls.push(`unsubscribe ${ids.join(',')}`);
      return { device_ids: ids };
    },
  };
  return { calls, viewer: viewer as unknown as EdgecamViewer };
}

test('a view leaving late does not unsubscribe a device the next view holds', async () => {
  const { calls, viewer } = fakeViewer();
  const live = new LiveDevices(viewer);
  const list = live.hold(['a', 'b', 'c']);
  const page = live.hold(['a']);
  list.release(); // the list goes before (or after) its reply: the page still shows `a`
  list.release(); // twice is once
  await Promise.all([list.ready, page.ready]);
  assert.deepEqual(calls, ['subscribe a,b,c', 'subscribe a', 'unsubscribe b,c']);
  page.release();
  assert.deepEqual(calls.at(-1), 'unsubscribe a');
});

/** The viewer's open and close events, and its `user` once open. */
type ViewerEvents = { open: { max_subscriptions?: number }; close: { reconnecting: boolean } };
class FakeViewer extends Emitter<ViewerEvents> {
  user: { max_subscriptions?: number } | undefined;
  fire<E extends keyof ViewerEvents>(event: E, value: ViewerEvents[E]): void {
    this.emit(event, value);
  }
}

test('capacity is the server’s cap: at once, at the next open, or the default once closed for good', async () => {
  const viewer = new FakeViewer();
  const live = new LiveDevices(viewer as unknown as EdgecamViewer);

  const atOpen = live.capacity();
  viewer.fire('close', { reconnecting: true }); // still waiting: it comes back
  viewer.fire('open', { max_subscriptions: 3 });
  assert.equal(await atOpen, 3);

  viewer.user = { max_subscriptions: 7 };
  assert.equal(await live.capacity(), 7);

  viewer.user = undefined;
  const closed = live.capacity();
  viewer.fire('close', { reconnecting: false });
  assert.equal(await closed, 256);
});
