/**
 * The edgecam client SDK: `login()` and `EdgecamApi` (presets, schedules, history) over HTTP, and
 * `EdgecamViewer` on /ws/viewer. See docs/client.md.
 */
export type { BackoffOptions } from './backoff.ts';
export { EdgecamError } from './errors.ts';
export { type ApiOptions, EdgecamApi } from './http.ts';
export { type LoginOptions, type LoginResult, login } from './login.ts';
export type * from './types.ts';
export { EdgecamViewer, type ViewerEvents, type ViewerOptions, type WebSocketConstructor } from './viewer.ts';
