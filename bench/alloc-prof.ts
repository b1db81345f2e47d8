import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';

/**
 * `--alloc-prof <dir>`: where a process's allocations come from, sampled over the inspector protocol
 * (`node --inspect`). `--heap-prof` keeps only what is still alive when the profile is taken, which
 * leaves out exactly the per-message garbage that sets how often the young generation is collected;
 * V8's sampler keeps objects a collection freed when asked to (`includeObjectsCollectedBy…`). Writes
 * `<name>.heapprofile` (Chrome DevTools → Memory → Load) and returns a short summary.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface ProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  children: ProfileNode[];
}

export interface HeapProfile {
  head: ProfileNode;
}

/** The inspector's WebSocket URL from the `Debugger listening on ws://…` line `--inspect` prints. */
export function inspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}

/** One inspector connection: commands answered in order of their ids. */
class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const reply = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      const waiting = reply.id === undefined ? undefined : this.pending.get(reply.id);
      if (!waiting || reply.id === undefined) return;
      this.pending.delete(reply.id);
      if (reply.error) waiting.reject(new Error(reply.error.message));
      else waiting.resolve(reply.result);
    });
    ws.on('close', () => {
      for (const waiting of this.pending.values()) waiting.reject(new Error('inspector connection closed'));
      this.pending.clear();
    });
  }

  static async open(url: string): Promise<Inspector> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Inspector(ws);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** Starts sampling a process's allocations; the returned function stops it and writes the profile. */
export async function sampleAllocations(
  name: string,
  url: string,
  dir: string,
): Promise<() => Promise<{ file: string; profile: HeapProfile }>> {
  const inspector = await Inspector.open(url);
  await inspector.send('HeapProfiler.enable');
  await inspector.send('HeapProfiler.startSampling', {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    const { profile } = (await inspector.send('HeapProfiler.stopSampling')) as { profile: HeapProfile };
    inspector.close();
    const file = join(dir, `${name}.heapprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return { file, profile };
  };
}

/** The functions that allocated most themselves, as shares of everything sampled. */
export function topAllocators(profile: HeapProfile, count: number): { share: number; where: string }[] {
  const bytes = new Map<string, number>();
  let total = 0;
  const visit = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(src|bench|node_modules)\//, '$1/');
    const where = `${functionName || '(anonymous)'} ${file}${file ? `:${lineNumber + 1}` : ''}`;
    bytes.set(where, (bytes.get(where) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  return [...bytes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([where, size]) => ({ share: total ? size / total : 0, where }));
}
