import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspectorUrl, topAllocators } from '../../bench/alloc-prof.ts';

describe('alloc-prof', () => {
  test('finds the inspector URL that node --inspect prints', () => {
    const output = 'Debugger listening on ws://127.0.0.1:39513/0f7c1e9a-4d1b-4c3a-9f0e-2b7d5c6a8e11\nFor help, see …';
    assert.equal(inspectorUrl(output), 'ws://127.0.0.1:39513/0f7c1e9a-4d1b-4c3a-9f0e-2b7d5c6a8e11');
    assert.equal(inspectorUrl('baseline listening url=http://127.0.0.1:4000'), undefined);
  });

  test('ranks functions by what they allocated themselves, summed over every call path', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9 });
    const node = (name: string, url: string, selfSize: number, children: unknown[] = []) => ({
      callFrame: frame(name, url),
      selfSize,
      children,
    });
    const parse = (size: number) => node('parse', 'file:///x/src/core/parse.ts', size);
    const profile = {
      head: node('(root)', '', 0, [
        node('handle', 'file:///x/src/core/room.ts', 10, [parse(30)]),
        node('other', 'file:///x/src/core/room.ts', 20, [parse(40)]),
      ]),
    } as Parameters<typeof topAllocators>[0];
    assert.deepEqual(topAllocators(profile, 2), [
      { share: 0.7, where: 'parse src/core/parse.ts:10' },
      { share: 0.2, where: 'other src/core/room.ts:10' },
    ]);
  });
});
