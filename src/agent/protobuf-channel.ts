import {
  Command,
  commandNames,
  decodeCommand,
  decodeSettings,
  encodeStatus,
  settingsToChanges,
  stateToSettings,
} from '../core/camera/codec.ts';
import type { Logger } from '../core/log.ts';
import type { State } from '../core/state/keys.ts';
import { type Channel, type ChannelEvents, type Reply, socketUrl } from './channel.ts';
import { Link } from './link.ts';

/**
 * The protobuf protocol: /ws/camera/ (seeds 000 and 001). The key goes in `Authorization: Bearer`,
 * never in the URL (URLs end up in logs). The server's first binary frame is the full CameraSettings;
 * every later one a ControlCommand, answered with a StatusResponse echoing its request id.
 * Only the camera keys travel here (resolution, fps, bitrate, …), so that is all the state holds.
 */

export interface ProtobufChannelOptions {
  server: URL;
  ca?: string;
  device: string;
  key: string;
  log: Logger;
  events: ChannelEvents;
  /** The agent's desired state: a width without a height keeps the current height. */
  current: () => State;
}

export function protobufChannel(opts: ProtobufChannelOptions): Channel {
  const { log, events } = opts;
  const url = socketUrl(opts.server, 'ws/camera/');
  url.searchParams.set('device', opts.device);
  // Reset on every open: the first frame of each connection is the settings snapshot.
  let first = true;

  const link = new Link(
    { url: url.href, headers: { authorization: `Bearer ${opts.key}` }, ca: opts.ca, log },
    {
      open: () => {
        first = true;
      },
      message: (data, isBinary) => {
        if (!isBinary) return log.warn('ignoring a text frame on /ws/camera/', { text: data.toString().slice(0, 200) });
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        if (first) {
          first = false;
          const settings = decodeSettings(bytes);
          if (!settings.ok) return log.warn('could not decode the settings frame', { error: settings.error });
          log.info('online', { device: opts.device, protocol: 'protobuf' });
          log.info('received full settings', { fields: Object.keys(settings.message).length });
          return events.snapshot(settingsToChanges(settings.message, {}) as State);
        }
        const command = decodeCommand(bytes);
        if (!command.ok) return log.warn('could not decode a command frame', { error: command.error });
        const { requestId } = command.message;
        if (command.message.command === Command.UPDATE_SETTINGS) {
          const changes = settingsToChanges(command.message.settings ?? {}, opts.current()) as State;
          log.info('received settings change', { request: requestId || undefined, keys: Object.keys(changes).join(',') });
          return events.changes(changes, requestId || undefined);
        }
        return events.command(commandNames[command.message.command], requestId || undefined);
      },
    },
  );

  return {
    start: () => link.start(),
    stop: () => link.stop(),
    reply(reply: Reply) {
      link.send(
        encodeStatus({
          requestId: reply.requestId ?? '',
          success: reply.success,
          message: reply.message.slice(0, 1000),
          currentSettings: reply.state ? stateToSettings(reply.state) : undefined,
          timestamp: Date.now(),
        }),
      );
    },
  };
}
