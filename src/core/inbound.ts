import { Close } from './codes.ts';
import type { Config } from './config.ts';
import { TokenBucket } from './rate-limit.ts';

/**
 * What every socket endpoint does to an inbound frame before reading it: the size limit and the rate
 * limit of the spec. Shared by the envelope endpoints and /api/v1.
 */

export type Verdict = { ok: true } | { ok: false; error?: string; close?: [code: number, reason: string] };

/** Shared: the answer for almost every frame, so it is not allocated per frame. */
const PASS: Verdict = { ok: true };

export class InboundLimits {
  private readonly bucket: TokenBucket;
  private strikes = 0;

  constructor(
    private readonly config: Config,
    now: number,
  ) {
    this.bucket = new TokenBucket(config.rateLimitPerS, config.rateLimitBurst, now);
  }

  check(data: string | ArrayBuffer, now: number): Verdict {
    const max = this.config.maxMessageBytes;
    const size = typeof data === 'string' ? byteLength(data, max) : data.byteLength;
    if (size > max) return { ok: false, close: [Close.tooBig, `Message larger than ${max} bytes`] };
    if (this.bucket.take(now)) {
      this.strikes = 0;
      return PASS;
    }
    // One warning, then the flood is dropped; about another second of it and the socket is closed.
    this.strikes++;
    if (this.strikes === 1) {
      return {
        ok: false,
        error: `Rate limit exceeded: at most ${this.config.rateLimitPerS} messages/s; this message was dropped`,
      };
    }
    if (this.strikes > this.config.rateLimitPerS) return { ok: false, close: [Close.policy, 'Rate limit exceeded'] };
    return { ok: false };
  }
}

/** The limits of every socket a room holds, by socket id (/api/v1 and /ws/camera/ share a room). */
export class SocketLimits {
  private readonly bySocket = new Map<string, InboundLimits>();

  constructor(private readonly config: Config) {}

  check(socketId: string, data: string | ArrayBuffer, now: number): Verdict {
    let limits = this.bySocket.get(socketId);
    if (!limits) {
      limits = new InboundLimits(this.config, now);
      this.bySocket.set(socketId, limits);
    }
    return limits.check(data, now);
  }

  forget(socketId: string): void {
    this.bySocket.delete(socketId);
  }
}

/** UTF-8 length, computed only when the string could be over the limit. */
function byteLength(text: string, limit: number): number {
  if (text.length * 3 <= limit) return text.length;
  return new TextEncoder().encode(text).byteLength;
}

/**
 * Handles items one at a time in arrival order, holding later ones back while an async step (a hello,
 * an authentication) runs, so a fast client's messages never overtake each other. `handle` must not reject.
 */
export class InOrder<T> {
  private pending: T[] | null = null;

  constructor(
    private readonly handle: (item: T) => void | Promise<void>,
    private readonly max: number,
    private readonly overflow: () => void,
  ) {}

  push(item: T): void {
    if (!this.pending) return this.run(item);
    if (this.pending.length >= this.max) return this.overflow();
    this.pending.push(item);
  }

  private run(item: T): void {
    const result = this.handle(item);
    if (!(result instanceof Promise)) return;
    this.pending = [];
    void result.finally(() => this.drain());
  }

  private drain(): void {
    const queued = this.pending ?? [];
    this.pending = null;
    while (queued.length > 0 && !this.pending) this.run(queued.shift() as T);
    // Another async step started: the rest waits behind it, still ahead of anything newer.
    if (this.pending) (this.pending as T[]).unshift(...queued);
  }
}
