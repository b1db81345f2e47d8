import type { Logger } from '../core/log.ts';
import { DeviceLink } from './device-link.ts';
import { logServerError } from './json-channel.ts';
import { routeWatchMessage, watchSignals } from './watch-messages.ts';
import type { WatchEvents, WatchSignals } from './webrtc/watches.ts';

/**
 * Watch signaling beside the protobuf channel: /ws/camera/ carries no signaling, so an agent on it that
 * serves WebRTC also holds a /ws/device link with the same key, for watches only. Settings and commands
 * reach the agent on the protobuf channel (the server sends commands there first); the copies the
 * server also sends on this link are ignored.
 */

export interface SignalingLink {
  signals: WatchSignals;
  start(): void;
  stop(): Promise<void>;
}

export function signalingChannel(opts: {
  server: URL;
  ca?: string;
  device: string;
  key: string;
  log: Logger;
  watches: WatchEvents;
}): SignalingLink {
  const { log, watches } = opts;
  const link: DeviceLink = new DeviceLink(opts, {
    closed: () => watches.offline(),
    message: (message) => {
      if (routeWatchMessage(message, watches, link, log)) return;
      if (message.type === 'hello_ack')
        return log.info('watch signaling online', { device: opts.device, endpoint: '/ws/device' });
      if (message.type === 'error') return logServerError(log, message.payload, message.request_id);
      // settings, command, heartbeat_ack: the protobuf channel has them.
    },
  });
  return { signals: watchSignals(link), start: () => link.start(), stop: () => link.stop() };
}
