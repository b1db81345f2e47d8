import { backoffDelay } from '../../client/backoff.ts';
import { systemClock } from '../../core/clock.ts';
import { Close } from '../../core/codes.ts';
import { frame } from '../../core/envelope/frame.ts';

/**
 * The simulator's side of /ws/device: hello with the device key, a heartbeat every 30 s, and reconnects
 * with backoff — the same things the Pi agent does, in a browser.
 */

export interface Envelope {
  type: string;
  request_id?: string;
  payload: Record<string, unknown>;
}

export interface LinkEvents {
  status(text: string, kind: 'ok' | 'off' | 'error'): void;
  message(message: Envelope): void;
  /** The socket is gone (the sessions with it). */
  down(): void;
}

const HEARTBEAT_MS = 30_000;
/** Closes after which retrying with the same id and key cannot help. */
const FINAL: Record<number, string> = {
  [Close.policy]: 'refused: check the device id and key (the key is shown once, when the device is registered)',
  [Close.replaced]: 'replaced: another connection (an agent or another simulator tab) took over this device',
  [Close.deviceRemoved]: 'this device was removed by an admin',
};

export class DeviceLink {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly deviceId: string,
    private readonly key: string,
    private readonly events: LinkEvents,
  ) {}

  start(): void {
    this.stopped = false;
    const url = new URL('/ws/device', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    this.socket = socket;
    this.events.status('connecting…', 'off');
    let lastReason = '';
    socket.onopen = () => this.send('hello', { device_id: this.deviceId, key: this.key });
    socket.onmessage = (e) => {
      let message: Envelope;
      try {
        message = JSON.parse(String(e.data)) as Envelope;
      } catch {
        return; // the server sends only JSON envelopes; anything else is not for us
      }
      if (typeof message?.type !== 'string' || typeof message.payload !== 'object' || message.payload === null) return;
      if (message.type === 'hello_ack') {
        this.attempt = 0;
        this.events.status('connected', 'ok');
        this.heartbeat = setInterval(() => this.send('heartbeat', {}), HEARTBEAT_MS);
      }
      if (message.type === 'error') lastReason = String(message.payload.message ?? '');
      this.events.message(message);
    };
    socket.onclose = (e) => {
      clearInterval(this.heartbeat);
      this.socket = null;
      this.events.down();
      if (this.stopped) return;
      const final = FINAL[e.code];
      if (final) return this.events.status(`${lastReason ? `${lastReason}: ` : ''}${final}`, 'error');
      const delay = backoffDelay(this.attempt++, { initialMs: 1000, maxMs: 30_000 }, Math.random);
      this.events.status(`disconnected (${e.code}); retrying in ${Math.ceil(delay / 1000)} s`, 'off');
      this.retry = setTimeout(() => this.start(), delay);
    };
  }

  send(type: string, payload: Record<string, unknown>, requestId?: string): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.socket.send(frame(systemClock, type, payload, requestId));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.socket?.close(1000);
  }
}
