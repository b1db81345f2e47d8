import * as v from 'valibot';
import type { Logger } from '../core/log.ts';
import { socketUrl } from './channel.ts';
import { Link } from './link.ts';

/**
 * The agent's /ws/device link (docs/protocol.md): hello with the device key on every connect, an
 * envelope `heartbeat` every 30 s besides the link's pings (the server's HEARTBEAT_TIMEOUT_S on
 * /ws/device counts messages, and the seed's clients send exactly this), and every inbound frame
 * checked as an envelope before its handler sees it. The json channel and the signaling link beside
 * the protobuf channel both speak through it.
 */

const Envelope = v.object({
  type: v.string(),
  request_id: v.optional(v.string()),
  payload: v.optional(v.record(v.string(), v.unknown()), {}),
});
export type InboundEnvelope = v.InferOutput<typeof Envelope>;

export interface DeviceLinkOptions {
  server: URL;
  ca?: string;
  device: string;
  key: string;
  log: Logger;
}

export interface DeviceLinkHandlers {
  message(message: InboundEnvelope): void;
  /** The connection closed: the server has ended this link's watch sessions. */
  closed?(): void;
}

export class DeviceLink {
  private readonly link: Link;

  constructor(opts: DeviceLinkOptions, handlers: DeviceLinkHandlers) {
    const { log } = opts;
    this.link = new Link(
      { url: socketUrl(opts.server, 'ws/device').href, ca: opts.ca, log },
      {
        open: () => this.send('hello', { device_id: opts.device, key: opts.key }),
        tick: () => this.send('heartbeat', {}),
        closed: () => handlers.closed?.(),
        message: (data, isBinary) => {
          if (isBinary) return log.warn('ignoring a binary frame on /ws/device');
          let parsed: unknown;
          try {
            parsed = JSON.parse(data.toString());
          } catch {
            return log.warn('ignoring a frame that is not JSON');
          }
          const message = v.safeParse(Envelope, parsed);
          if (!message.success) return log.warn('ignoring a frame that is not an envelope');
          handlers.message(message.output);
        },
      },
    );
  }

  start(): void {
    this.link.start();
  }

  stop(): Promise<void> {
    return this.link.stop();
  }

  /** Sends if connected; false if dropped (the server resends what matters on reconnect). */
  send(type: string, payload: Record<string, unknown>, requestId?: string): boolean {
    return this.link.send(
      JSON.stringify({ type, ...(requestId ? { request_id: requestId } : {}), ts: new Date().toISOString(), payload }),
    );
  }
}
