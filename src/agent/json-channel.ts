import * as v from 'valibot';
import type { Logger } from '../core/log.ts';
import type { State } from '../core/state/keys.ts';
import { type Channel, type ChannelEvents, type Reply, socketUrl } from './channel.ts';
import { Link } from './link.ts';

/**
 * The json protocol: the envelope protocol of /ws/device (docs/protocol.md). hello with the key, then
 * `settings` (a full snapshot first, then changes) and `command` in, `status` out, and an envelope
 * `heartbeat` every 30 s besides the link's pings: the server's HEARTBEAT_TIMEOUT_S on /ws/device counts
 * messages, and the seed's clients send exactly this.
 */

const Envelope = v.object({
  type: v.string(),
  request_id: v.optional(v.string()),
  payload: v.optional(v.record(v.string(), v.unknown()), {}),
});
const StateValues = v.record(v.string(), v.union([v.number(), v.string(), v.boolean()]));
const Settings = v.object({
  settings: StateValues,
  seq: v.optional(v.number()),
  snapshot: v.optional(v.boolean()),
  request_id: v.optional(v.string()),
});
const Command = v.object({ command: v.string(), request_id: v.optional(v.string()) });
const ErrorPayload = v.object({ message: v.optional(v.string()), code: v.optional(v.string()) });

export interface JsonChannelOptions {
  server: URL;
  device: string;
  key: string;
  log: Logger;
  events: ChannelEvents;
}

export function jsonChannel(opts: JsonChannelOptions): Channel {
  const { log, events } = opts;
  const envelope = (type: string, payload: Record<string, unknown>, requestId?: string) =>
    JSON.stringify({ type, ...(requestId ? { request_id: requestId } : {}), ts: new Date().toISOString(), payload });

  const link = new Link(
    { url: socketUrl(opts.server, 'ws/device').href, log },
    {
      open: (send) => send(envelope('hello', { device_id: opts.device, key: opts.key })),
      tick: (send) => send(envelope('heartbeat', {})),
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
        handle(message.output);
      },
    },
  );

  function handle(message: v.InferOutput<typeof Envelope>): void {
    const { type, payload } = message;
    switch (type) {
      case 'hello_ack':
        return log.info('online', { device: opts.device, protocol: 'json' });
      case 'heartbeat_ack':
        return;
      case 'settings': {
        const settings = v.safeParse(Settings, payload);
        if (!settings.success) return log.warn('ignoring a settings message without settings');
        const { snapshot, seq } = settings.output;
        log.info(snapshot ? 'received full settings' : 'received settings change', {
          seq,
          keys: snapshot ? Object.keys(settings.output.settings).length : Object.keys(settings.output.settings).join(','),
        });
        if (snapshot) return events.snapshot(settings.output.settings as State);
        return events.changes(settings.output.settings as State, message.request_id ?? settings.output.request_id);
      }
      case 'command': {
        const command = v.safeParse(Command, payload);
        if (!command.success) return log.warn('ignoring a command message without a command name');
        return events.command(command.output.command, message.request_id ?? command.output.request_id);
      }
      case 'watch_request': {
        // This agent streams to MediaMTX, not over WebRTC: say so at once rather than let the viewer
        // wait for the server's answer timeout (a device may end a session it cannot serve).
        const session = typeof payload.session_id === 'string' ? payload.session_id : undefined;
        log.info('declining a WebRTC watch request: this agent does not do WebRTC', { session });
        if (session) link.send(envelope('end_watch', { session_id: session }));
        return;
      }
      case 'watch_ended':
        return;
      case 'error': {
        const error = v.safeParse(ErrorPayload, payload);
        return log.warn('server reported an error', {
          message: error.success ? error.output.message : undefined,
          code: error.success ? error.output.code : undefined,
          request: message.request_id,
        });
      }
      default:
        return log.debug('ignoring a message', { type });
    }
  }

  return {
    start: () => link.start(),
    stop: () => link.stop(),
    reply(reply: Reply) {
      const payload: Record<string, unknown> = { success: reply.success, message: reply.message.slice(0, 1000) };
      if (reply.state) payload.state = reply.state;
      link.send(envelope('status', payload, reply.requestId));
    },
  };
}
