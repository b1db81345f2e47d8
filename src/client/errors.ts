/**
 * One error type for everything the SDK rejects or reports, so callers branch on `code` instead of
 * parsing messages. Server errors keep the server's `code`, `key` and `detail` (see docs/protocol.md);
 * failures the SDK detects itself use its own codes (listed in docs/client.md).
 */
export class EdgecamError extends Error {
  /** The server's `code` (`invalid_value`, `device_offline`…) or the SDK's (`timeout`, `queue_full`…). */
  readonly code: string;
  /** The state key a refused change was about, when there is one. */
  readonly key: string | undefined;
  /** The server's explanation of an invalid value ("Value must be between 0 and 100"). */
  readonly detail: string | undefined;
  /** HTTP status, for errors from the HTTP API. */
  readonly status: number | undefined;
  /** Seconds to wait before trying again (HTTP 429). */
  readonly retryAfter: number | undefined;

  constructor(
    code: string,
    message: string,
    extra: { key?: string; detail?: string; status?: number; retryAfter?: number } = {},
  ) {
    super(message);
    this.name = 'EdgecamError';
    this.code = code;
    this.key = extra.key;
    this.detail = extra.detail;
    this.status = extra.status;
    this.retryAfter = extra.retryAfter;
  }
}
