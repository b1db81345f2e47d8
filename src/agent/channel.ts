import type { State } from '../core/state/keys.ts';

/**
 * What the agent needs from a protocol, whichever it is: the server's wishes in, replies out. The json
 * (/ws/device) and protobuf (/ws/camera/) channels translate their frames to and from these.
 */

export interface ChannelEvents {
  /** The server's full desired state: on every (re)connect. */
  snapshot(state: State): void;
  /** Some keys changed (raw values, as the server sent them). */
  changes(changes: State, requestId: string | undefined): void;
  /** start_stream, stop_stream, restart_camera, get_status, snap… (the envelope names). */
  command(name: string, requestId: string | undefined): void;
}

export interface Reply {
  /** Absent for a report nobody asked for (the result of applying a snapshot). */
  requestId?: string;
  success: boolean;
  message: string;
  /** What the device actually applied: only when it is current, since the server takes it as the truth. */
  state?: State;
}

export interface Channel {
  start(): void;
  /** Sends if connected; replies are dropped while offline (the server resends the state on reconnect). */
  reply(reply: Reply): void;
  stop(): Promise<void>;
}

/** `http://host:8000/prefix` + `ws/device` → `ws://host:8000/prefix/ws/device`. */
export function socketUrl(base: URL, path: string): URL {
  const root = new URL(base);
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  const url = new URL(path, root);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  return url;
}
