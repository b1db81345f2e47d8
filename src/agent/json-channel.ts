import * as v from 'valibot';
import type { Logger } from '../core/log.ts';
import type { State } from '../core/state/keys.ts';
import type { Channel, ChannelEvents, Reply } from './channel.ts';
import { DeviceLink } from './device-link.ts';
import { routeWatchMessage, watchSignals } from './watch-messages.ts';
import type { WatchEvents, WatchSignals } from './webrtc/watches.ts';

/**
 * The json protocol: the envelope protocol of /ws/device (docs/protocol.md). `settings` (a full
 * snapshot first, then changes) and `command` in, `status` out; watch signaling goes to the agent's
 * watch sessions (or is declined without WebRTC).
 */

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
  ca?: string;
  device: string;
  key: string;
  log: Logger;
  events: ChannelEvents;
  /** The agent's watch sessions, when it serves WebRTC watches. */
  watches?: WatchEvents;
}

export function jsonChannel(opts: JsonChannelOptions): Channel & { signals: WatchSignals } {
  const { log, events } = opts;
  const link: DeviceLink = new DeviceLink(opts, {
    closed: () => opts.watches?.offline(),
    message: (message) => {
      const { type, payload } = message;
      if (routeWatchMessage(message, opts.watches, link, log)) return;
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
        case 'error':
          return logServerError(log, payload, message.request_id);
        default:
          return log.debug('ignoring a message', { type });
      }
    },
  });

  return {
    start: () => link.start(),
    stop: () => link.stop(),
    signals: watchSignals(link),
    reply(reply: Reply) {
      const payload: Record<string, unknown> = { success: reply.success, message: reply.message.slice(0, 1000) };
      if (reply.state) payload.state = reply.state;
      link.send('status', payload, reply.requestId);
    },
  };
}

export function logServerError(log: Logger, payload: Record<string, unknown>, requestId: string | undefined): void {
  const error = v.safeParse(ErrorPayload, payload);
  log.warn('server reported an error', {
    message: error.success ? error.output.message : undefined,
    code: error.success ? error.output.code : undefined,
    request: requestId,
  });
}
