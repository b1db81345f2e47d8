import type { State, Value } from '../state/keys.ts';
import { camera_control as pb } from './generated/camera_control.js';

/**
 * The binary channel's messages (seed 001's camera_control.proto) and their mapping to the camera state.
 * CameraSettings fields are proto3 `optional`: a field is on the wire only when set, an explicit zero
 * included, so "the fields present" is exactly what a sender meant to change.
 */

export const Command = { UPDATE_SETTINGS: 0, START_STREAM: 1, STOP_STREAM: 2, GET_STATUS: 3, RESTART_CAMERA: 4 } as const;
export type CommandType = (typeof Command)[keyof typeof Command];

/** The envelope protocol's names for the same commands (`command {command}` on /ws/device). */
export const commandNames: Record<CommandType, string> = {
  0: 'update_settings',
  1: 'start_stream',
  2: 'stop_stream',
  3: 'get_status',
  4: 'restart_camera',
};

export type Settings = pb.CameraSettings.$Properties;

export interface ControlCommand {
  command: CommandType;
  settings?: Settings;
  requestId: string;
}

export interface StatusResponse {
  success: boolean;
  message: string;
  currentSettings?: Settings;
  requestId: string;
  timestamp: number;
}

/** field ↔ key, for the fields that map one to one. */
const direct: [keyof Settings, string][] = [
  ['fps', 'fps'],
  ['bitrate', 'bitrate'],
  ['contrast', 'contrast'],
  ['brightness', 'brightness'],
  ['saturation', 'saturation'],
  ['sharpness', 'sharpness'],
  ['aiEnabled', 'ai-enabled'],
  ['aiModel', 'ai-model'],
  ['cameraName', 'camera-name'],
  ['encoding', 'encoding'],
  ['quality', 'quality'],
  ['autoExposure', 'auto-exposure'],
  ['exposureTime', 'exposure-time'],
];

const present = (settings: Settings, field: keyof Settings) => Object.hasOwn(settings, field) && settings[field] != null;

/**
 * The state keys that `settings` sets: raw values, for the state schema to validate like any input.
 * width and height make `resolution`; one without the other keeps the current value of the other.
 */
export function settingsToChanges(settings: Settings, current: State): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [field, key] of direct) if (present(settings, field)) changes[key] = settings[field];
  if (present(settings, 'aiConfidence')) {
    // float on the wire: 0.7 arrives as 0.699999988079071.
    changes['ai-confidence'] = Math.round((settings.aiConfidence as number) * 1e6) / 1e6;
  }
  if (present(settings, 'cameraIndex')) changes['main-camera'] = (settings.cameraIndex as number) + 1;
  if (present(settings, 'width') || present(settings, 'height')) {
    const [width, height] = String(current.resolution ?? '0x0').split('x');
    changes.resolution = `${settings.width ?? width}x${settings.height ?? height}`;
  }
  return changes;
}

/** The CameraSettings for the keys in `state` (all of them, or just what changed). */
export function stateToSettings(state: Partial<Record<string, Value>>): Settings {
  const settings: Record<string, unknown> = {};
  for (const [field, key] of direct) if (state[key] !== undefined) settings[field] = state[key];
  if (state['ai-confidence'] !== undefined) settings.aiConfidence = state['ai-confidence'];
  if (state['main-camera'] !== undefined) settings.cameraIndex = (state['main-camera'] as number) - 1;
  if (typeof state.resolution === 'string') {
    const [width, height] = state.resolution.split('x').map(Number);
    settings.width = width;
    settings.height = height;
  }
  return settings as Settings;
}

/** True when a change touches a key the binary channel carries. */
export function carriesAny(changes: State): boolean {
  return Object.keys(stateToSettings(changes)).length > 0;
}

export function encodeSettings(settings: Settings): Uint8Array {
  return pb.CameraSettings.encode(settings).finish();
}

export function encodeCommand(command: ControlCommand): Uint8Array {
  return pb.ControlCommand.encode(command).finish();
}

export function encodeStatus(status: StatusResponse): Uint8Array {
  return pb.StatusResponse.encode(status).finish();
}

export type Decoded<T> = { ok: true; message: T } | { ok: false; error: string };

/** Decoders throw on illegal input (a truncated frame, a bad wire type): always through here. */
function guarded<T>(decode: () => T): Decoded<T> {
  try {
    return { ok: true, message: decode() };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

export function decodeCommand(bytes: Uint8Array): Decoded<ControlCommand> {
  return guarded(() => {
    const m = pb.ControlCommand.decode(bytes);
    const command = m.command ?? 0;
    if (!(command in commandNames)) throw new Error(`unknown command ${command}`);
    return { command: command as CommandType, settings: m.settings ?? undefined, requestId: m.requestId ?? '' };
  });
}

export function decodeStatus(bytes: Uint8Array): Decoded<StatusResponse> {
  return guarded(() => {
    const m = pb.StatusResponse.decode(bytes);
    return {
      success: m.success ?? false,
      message: m.message ?? '',
      currentSettings: m.currentSettings ?? undefined,
      requestId: m.requestId ?? '',
      timestamp: Number(m.timestamp ?? 0),
    };
  });
}

export function decodeSettings(bytes: Uint8Array): Decoded<Settings> {
  return guarded(() => pb.CameraSettings.decode(bytes));
}
