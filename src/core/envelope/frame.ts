import type { ErrorCode } from '../codes.ts';

/**
 * Outgoing envelope frames, serialised once. Server messages always carry `ts` and echo `request_id`.
 */

export function frame(type: string, payload: unknown, requestId?: string): string {
  const ts = new Date().toISOString();
  return requestId === undefined
    ? `{"type":"${type}","ts":"${ts}","payload":${JSON.stringify(payload)}}`
    : `{"type":"${type}","request_id":${JSON.stringify(requestId)},"ts":"${ts}","payload":${JSON.stringify(payload)}}`;
}

export function errorFrame(code: ErrorCode, message: string, requestId?: string, extra?: object): string {
  return frame('error', { message, code, ...extra }, requestId);
}
