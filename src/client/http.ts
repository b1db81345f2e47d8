import { EdgecamError } from './errors.ts';
import type { DeviceInfo, DevicePage, DeviceResult, HistoryEntry, NewSchedule, Preset, Schedule } from './types.ts';

/**
 * The HTTP API with a user's token: the device listing, presets, schedules and a device's history. Errors are
 * `EdgecamError`s with the HTTP status, the server's message, and the state key a refused value was
 * about. Uses the standard `fetch`, so it runs in browsers, Node 20+ and Deno.
 */

export interface ApiOptions {
  /** Another fetch (a test double, a proxy-aware one); the global one by default. */
  fetch?: typeof fetch;
}

export class EdgecamApi {
  private readonly doFetch: typeof fetch;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    options: ApiOptions = {},
  ) {
    this.doFetch = options.fetch ?? globalThis.fetch;
  }

  // — devices —

  /** A page of the devices this user may see, in id order: `limit` (1–1000) after `cursor`, whose id or name holds `q`. */
  devices(options: { limit?: number; cursor?: string; q?: string } = {}): Promise<DevicePage> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.cursor !== undefined) query.set('cursor', options.cursor);
    if (options.q !== undefined) query.set('q', options.q);
    return this.call('GET', `/api/devices${query.size ? `?${query}` : ''}`);
  }

  /** Every device (whose id or name holds `q`), a page of `pageSize` at a time: `for await (const d of api.allDevices())`. */
  async *allDevices(options: { q?: string; pageSize?: number } = {}): AsyncGenerator<DeviceInfo> {
    let cursor: string | undefined;
    do {
      const page = await this.devices({ limit: options.pageSize ?? 500, q: options.q, ...(cursor ? { cursor } : {}) });
      yield* page.devices;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  // — presets —

  /** The shared presets, and `deviceId`'s own when given. */
  async presets(deviceId?: string): Promise<Preset[]> {
    const query = deviceId === undefined ? '' : `?device=${encodeURIComponent(deviceId)}`;
    return (await this.call<{ presets: Preset[] }>('GET', `/api/presets${query}`)).presets;
  }

  createPreset(preset: { name: string; values: Record<string, unknown>; device_id?: string }): Promise<Preset> {
    return this.call('POST', '/api/presets', preset);
  }

  updatePreset(id: string, change: { name: string; values: Record<string, unknown> }): Promise<Preset> {
    return this.call('PUT', `/api/presets/${encodeURIComponent(id)}`, change);
  }

  async deletePreset(id: string): Promise<void> {
    await this.call('DELETE', `/api/presets/${encodeURIComponent(id)}`);
  }

  /** Applies to `devices` (default: the preset's own device): a result per device. */
  async applyPreset(id: string, devices?: string[]): Promise<Record<string, DeviceResult>> {
    const body = devices === undefined ? {} : { devices };
    return (
      await this.call<{ results: Record<string, DeviceResult> }>('POST', `/api/presets/${encodeURIComponent(id)}/apply`, body)
    ).results;
  }

  // — schedules —

  async schedules(): Promise<Schedule[]> {
    return (await this.call<{ schedules: Schedule[] }>('GET', '/api/schedules')).schedules;
  }

  createSchedule(schedule: NewSchedule): Promise<Schedule> {
    return this.call('POST', '/api/schedules', schedule);
  }

  /** The fields given replace the old ones (`preset_id` replaces `values`, `cron` replaces `at`). */
  updateSchedule(id: string, change: Partial<NewSchedule>): Promise<Schedule> {
    return this.call('PATCH', `/api/schedules/${encodeURIComponent(id)}`, change);
  }

  async deleteSchedule(id: string): Promise<void> {
    await this.call('DELETE', `/api/schedules/${encodeURIComponent(id)}`);
  }

  // — history —

  /** Accepted changes, newest first: `limit` (default 50, at most 1000) before sequence number `before`. */
  async history(deviceId: string, options: { limit?: number; before?: number } = {}): Promise<HistoryEntry[]> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.before !== undefined) query.set('before', String(options.before));
    const path = `/api/devices/${encodeURIComponent(deviceId)}/history${query.size ? `?${query}` : ''}`;
    return (await this.call<{ changes: HistoryEntry[] }>('GET', path)).changes;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await this.doFetch(new URL(path, this.baseUrl), {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (cause) {
      throw new EdgecamError('network_error', `Cannot reach ${this.baseUrl}: ${(cause as Error).message}`);
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // A proxy's HTML error page: the status still says what happened.
    }
    if (response.ok) return parsed as T;
    const message = [parsed.error, parsed.field, parsed.message]
      .filter((part): part is string => typeof part === 'string' && part.length > 0)
      .join(': ');
    throw new EdgecamError(codeOf(response.status), message || `HTTP ${response.status}`, {
      status: response.status,
      ...(typeof parsed.key === 'string' ? { key: parsed.key } : {}),
      ...(typeof parsed.message === 'string' ? { detail: parsed.message } : {}),
    });
  }
}

function codeOf(status: number): string {
  return (
    ({ 400: 'bad_request', 401: 'invalid_token', 403: 'forbidden', 404: 'not_found', 409: 'conflict' } as Record<number, string>)[
      status
    ] ?? 'http_error'
  );
}
