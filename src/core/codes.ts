/**
 * Close codes and error messages are data: one table, documented in docs/protocol.md.
 * Messages in quotes are the seed protocol's own wording; clients match on them.
 */

export const Close = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  serverError: 1011,
  replaced: 4000,
  deviceRemoved: 4001,
} as const;

export type ErrorCode =
  | 'bad_json'
  | 'bad_message'
  | 'unknown_type'
  | 'not_allowed'
  | 'unauthorized'
  | 'invalid_token'
  | 'device_not_found'
  | 'device_offline'
  | 'session_not_found'
  | 'too_many_sessions'
  | 'too_many_subscriptions'
  | 'unknown_key'
  | 'permission_denied'
  | 'invalid_value'
  | 'rate_limited'
  | 'internal';

/** The seed's wording for errors that have one. */
export const ErrorText = {
  unauthorized: 'Unauthorized',
  invalidToken: 'Invalid token',
  deviceNotFound: 'Device not found',
  deviceOffline: 'Device is offline',
  sessionNotFound: 'Session not found',
} as const;

export type WatchEndReason = 'viewer_disconnected' | 'user_ended' | 'device_disconnected' | 'timeout' | 'error';
