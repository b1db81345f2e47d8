import { rootCertificates } from 'node:tls';
import WebSocket from 'ws';
import type { Logger } from '../core/log.ts';
import { Backoff } from './backoff.ts';

/**
 * One WebSocket to the server, kept open for ever: reconnects with backoff after every close or
 * failure, and finds dead connections itself. A Pi behind a VPN that drops never sees a close
 * (websockets/ws#759), so the link pings every 30 s and gives up on a socket that has been silent for
 * 75 s: pong or any message counts as a sign of life.
 */

export interface LinkHandlers {
  /** The socket is open: say hello. */
  open(send: (data: string | Uint8Array) => void): void;
  message(data: Buffer, isBinary: boolean): void;
  /** Every ping interval, for protocols with their own heartbeat. */
  tick?(send: (data: string | Uint8Array) => void): void;
  /** An open connection closed (a reconnect follows unless stopped). */
  closed?(): void;
}

export interface LinkOptions {
  url: string;
  headers?: Record<string, string>;
  /** PEM of a CA (or self-signed certificate) trusted for wss:// besides the public CAs (`--ca`). */
  ca?: string;
  log: Logger;
  pingMs?: number;
  deadMs?: number;
  /** A connection that lasted this long was good: the next reconnect starts from the shortest delay. */
  stableMs?: number;
  backoff?: Backoff;
}

/** What a close code means for a device, said once in the log: the advice of docs/protocol.md. */
const CLOSE_ADVICE: Record<number, { level: 'warn' | 'error'; text: string }> = {
  1000: { level: 'warn', text: 'the server closed the connection' },
  1001: { level: 'warn', text: 'the server is going away (restart) or found this connection silent' },
  1008: {
    level: 'error',
    text: 'REFUSED by the server: wrong key or unknown device? Check --device/--key (an admin may fix it; retrying)',
  },
  1009: { level: 'error', text: 'the server refused a message as too large' },
  1011: { level: 'warn', text: 'the server hit an internal error on this connection' },
  1013: { level: 'warn', text: 'the server dropped this connection for reading too slowly' },
  4000: { level: 'warn', text: 'replaced by another agent using this device id: run only one agent per device' },
  4001: { level: 'error', text: 'the device was DELETED on the server: re-register it and update the key (retrying)' },
};

const UNTRUSTED = "the server's certificate is not trusted: pass its CA (or the self-signed certificate) with --ca <pem>";
/** TLS failures the device's owner can fix, by the error's code, said with the failed connection. */
const TLS_ADVICE: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: UNTRUSTED,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: UNTRUSTED,
  SELF_SIGNED_CERT_IN_CHAIN: UNTRUSTED,
  DEPTH_ZERO_SELF_SIGNED_CERT: UNTRUSTED,
  ERR_TLS_CERT_ALTNAME_INVALID:
    "the server's certificate is not for this address: its subjectAltName must list the host in --server",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
};

export class Link {
  private ws: WebSocket | undefined;
  private stopped = false;
  private openedAt: number | undefined;
  private lastError: string | undefined;
  private lastErrorCode: string | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private deadTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly backoff: Backoff;
  private readonly pingMs: number;
  private readonly deadMs: number;
  private readonly stableMs: number;
  private readonly log: Logger;

  constructor(
    private readonly opts: LinkOptions,
    private readonly handlers: LinkHandlers,
  ) {
    this.log = opts.log;
    this.backoff = opts.backoff ?? new Backoff({ baseMs: 500, capMs: 30_000, jitter: true });
    this.pingMs = opts.pingMs ?? 30_000;
    this.deadMs = opts.deadMs ?? 75_000;
    this.stableMs = opts.stableMs ?? 10_000;
  }

  start(): void {
    this.connect();
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Sends if connected; false if the message was dropped (the server resends state on reconnect). */
  send(data: string | Uint8Array): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(data);
    return true;
  }

  /** Closes with 1000 and stops reconnecting; resolves when the socket is closed (at most ~2 s). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopTimers();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2_000);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'agent stopping');
    });
  }

  private connect(): void {
    if (this.stopped) return;
    this.openedAt = undefined;
    this.lastError = undefined;
    this.lastErrorCode = undefined;
    const ws = new WebSocket(this.opts.url, {
      headers: this.opts.headers,
      // A handshake stuck on a half-open VPN must fail too, not hang for ever.
      handshakeTimeout: 15_000,
      maxPayload: 1024 * 1024,
      // `ca` replaces Node's trusted CAs: keep the public ones, so a server that moves to a public
      // certificate still connects.
      ...(this.opts.ca ? { ca: [...rootCertificates, this.opts.ca] } : {}),
    });
    this.ws = ws;
    const send = (data: string | Uint8Array) => this.send(data);
    ws.on('open', () => {
      this.openedAt = Date.now();
      this.log.info('connected', { url: this.opts.url });
      this.armTimers(ws);
      this.guard('open', () => this.handlers.open(send));
    });
    ws.on('message', (data, isBinary) => {
      this.alive();
      this.guard('message', () => this.handlers.message(data as Buffer, isBinary));
    });
    ws.on('pong', () => this.alive());
    ws.on('ping', () => this.alive());
    // Without an error listener ws would crash the process (websockets/ws#1716); a close always follows.
    ws.on('error', (error: NodeJS.ErrnoException) => {
      this.lastError = error.message;
      this.lastErrorCode = error.code;
    });
    ws.on('close', (code, reason) => this.closed(ws, code, reason.toString()));
  }

  private closed(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.stopTimers();
    if (this.openedAt !== undefined) this.guard('close', () => this.handlers.closed?.());
    if (this.stopped) return;
    const upMs = this.openedAt === undefined ? 0 : Date.now() - this.openedAt;
    if (upMs >= this.stableMs) this.backoff.reset();
    const delay = this.backoff.next();
    if (this.openedAt === undefined) {
      this.log.warn('connection failed', {
        error: this.lastError ?? `closed ${code}`,
        meaning: this.lastErrorCode && TLS_ADVICE[this.lastErrorCode],
        reconnect_in_ms: delay,
      });
    } else {
      const advice = CLOSE_ADVICE[code];
      this.log[advice?.level ?? 'warn']('disconnected', {
        code,
        reason: reason || undefined,
        error: this.lastError,
        meaning: advice?.text,
        up_s: Math.round(upMs / 100) / 10,
        reconnect_in_ms: delay,
      });
    }
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private armTimers(ws: WebSocket): void {
    this.deadTimer = setTimeout(() => {
      this.log.warn('no sign of life from the server, dropping the connection', { silent_s: this.deadMs / 1000 });
      // terminate, not close: a dead peer would never answer the closing handshake.
      ws.terminate();
    }, this.deadMs);
    this.pingTimer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.ping();
      this.guard('heartbeat', () => this.handlers.tick?.((data) => this.send(data)));
    }, this.pingMs);
  }

  private alive(): void {
    this.deadTimer?.refresh();
  }

  private stopTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.deadTimer);
    this.pingTimer = undefined;
    this.deadTimer = undefined;
  }

  /** A bug in a handler must not take the connection (or the agent) down. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.log.error(`${what} handler failed`, { error: error instanceof Error ? error.message : String(error) });
    }
  }
}
