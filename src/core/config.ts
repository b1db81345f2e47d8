import * as v from 'valibot';

/**
 * Every setting the server reads from its environment, checked once at start-up.
 * This module is the only place that reads environment variables: runtimes pass their env in.
 */

// At most a week: timers overflow past 2^31 ms (about 24.8 days) and fire at once.
const WEEK_S = 7 * 24 * 3600;

const seconds = (fallback: number, min = 0.05) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^\d+(\.\d+)?$/, 'must be a number of seconds, like 30 or 0.5'),
    v.transform(Number),
    v.number('must be a number of seconds'),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(WEEK_S, `must be at most ${WEEK_S}`),
  );
const integer = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^\d+$/, 'must be a whole number'),
    v.transform(Number),
    v.number('must be a whole number'),
    v.integer('must be a whole number'),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );
const flag = (fallback: boolean) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.picklist(['true', 'false', '1', '0', 'yes', 'no'], 'must be true or false'),
    v.transform((s) => s === 'true' || s === '1' || s === 'yes'),
  );
const list = v.pipe(
  v.optional(v.string(), ''),
  v.transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  ),
);

const EnvSchema = v.object({
  PORT: integer(8000, 0, 65535),
  HOST: v.optional(v.string(), '0.0.0.0'),
  DATA_DIR: v.optional(v.string(), './data'),
  JWT_SECRET: v.optional(v.pipe(v.string(), v.minBytes(32, 'must be at least 32 bytes (try: openssl rand -base64 48)'))),
  TOKEN_TTL_S: integer(3600, 60, WEEK_S),
  ADMIN_USERNAME: v.optional(v.string(), 'admin'),
  ADMIN_PASSWORD: v.optional(v.pipe(v.string(), v.minLength(8, 'must be at least 8 characters'))),
  ALLOWED_ORIGINS: list,
  ANONYMOUS_READ: flag(true),
  STUN_URLS: list,
  TURN_URLS: list,
  TURN_SECRET: v.optional(v.string()),
  METRICS_TOKEN: v.optional(v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters (try: openssl rand -hex 24)'))),
  TURN_TTL_S: integer(3600, 60, WEEK_S),
  HELLO_TIMEOUT_S: seconds(10),
  HEARTBEAT_TIMEOUT_S: seconds(90),
  MAX_MESSAGE_BYTES: integer(65536, 256, 16 * 1024 * 1024),
  RATE_LIMIT_PER_S: integer(100, 1),
  RATE_LIMIT_BURST: integer(500, 1),
  MAX_SOCKETS_PER_USER: integer(1000, 1),
  // Limits the spec leaves to us (docs/configuration.md).
  MAX_BODY_BYTES: integer(65536, 1024),
  MAX_WATCHES_PER_SOCKET: integer(16, 1),
  MAX_VIEWERS_PER_DEVICE: integer(64, 1),
  WATCH_ANSWER_TIMEOUT_S: seconds(30),
  STATE_LOG_SIZE: integer(1000, 1, 100_000),
  HISTORY_LIMIT: integer(1000, 1, 100_000),
  MAX_SUBSCRIPTIONS_PER_SOCKET: integer(256, 1),
  CAMERA_PENDING_PER_CONTROLLER: integer(32, 1, 10_000),
  CAMERA_PENDING_PER_DEVICE: integer(256, 1, 100_000),
  LOGIN_MAX_FAILURES: integer(10, 1, 10),
  LOGIN_MAX_FAILURES_PER_CLIENT: integer(30, 1),
  LOGIN_WINDOW_S: integer(900, 1, WEEK_S),
  LOGIN_MAX_CONCURRENT: integer(2, 1, 1000),
  LOGIN_MAX_PER_MINUTE: integer(30, 1, 100_000),
  PASSWORD_ITERATIONS: integer(600_000, 100_000),
  TOKEN_CACHE_SIZE: integer(1000, 0, 1_000_000),
  ROOM_IDLE_S: seconds(60, 1),
  SEND_BUFFER_BYTES: integer(4 * 1024 * 1024, 64 * 1024),
  STATE_HIGH_WATER_BYTES: integer(64 * 1024, 1024),
  TRUST_PROXY: flag(false),
  // PEM file paths; the Node/Deno runtime reads them (the core reads no files).
  TLS_CERT: v.optional(v.string()),
  TLS_KEY: v.optional(v.string()),
  LOG_LEVEL: v.optional(v.picklist(['debug', 'info', 'warn', 'error', 'silent']), 'info'),
  LOG_FORMAT: v.optional(v.picklist(['text', 'json'], 'LOG_FORMAT must be text or json'), 'text'),
});

type Env = v.InferOutput<typeof EnvSchema>;

/** Every variable the server reads (the local Worker passes exactly these on to workerd). */
export const ENV_VARIABLES = Object.keys(EnvSchema.entries);

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  jwtSecret: string | undefined;
  tokenTtlS: number;
  adminUsername: string;
  adminPassword: string | undefined;
  allowedOrigins: string[];
  anonymousRead: boolean;
  stunUrls: string[];
  turnUrls: string[];
  turnSecret: string | undefined;
  /** A bearer token for GET /metrics, for a scraper that has no user. */
  metricsToken: string | undefined;
  turnTtlS: number;
  helloTimeoutMs: number;
  heartbeatTimeoutMs: number;
  maxMessageBytes: number;
  rateLimitPerS: number;
  rateLimitBurst: number;
  maxSocketsPerUser: number;
  maxBodyBytes: number;
  maxWatchesPerSocket: number;
  maxViewersPerDevice: number;
  watchAnswerTimeoutMs: number;
  stateLogSize: number;
  /** Changes each device's history keeps (its log keeps the larger of this and stateLogSize). */
  historyLimit: number;
  maxSubscriptionsPerSocket: number;
  /** /ws/camera/ commands awaiting the device's reply: per controller socket, and per device. */
  cameraPendingPerController: number;
  cameraPendingPerDevice: number;
  loginMaxFailures: number;
  loginMaxFailuresPerClient: number;
  loginWindowMs: number;
  /** Per username and per client: password checks at once, and attempts of any outcome per minute. */
  loginMaxConcurrent: number;
  loginMaxPerMinute: number;
  passwordIterations: number;
  tokenCacheSize: number;
  roomIdleMs: number;
  sendBufferBytes: number;
  stateHighWaterBytes: number;
  trustProxy: boolean;
  /** HTTPS and WSS only, with this certificate (chain) and private key: PEM file paths (Node, Deno). */
  tls: { certFile: string; keyFile: string } | undefined;
  logLevel: Env['LOG_LEVEL'];
  logFormat: Env['LOG_FORMAT'];
}

/** Thrown with every bad variable named, so a misconfigured deploy fails at once and says why. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, unknown>): Config {
  // Only strings are environment variables; Workers bindings (Durable Objects, assets) are skipped.
  const strings: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.entries)) {
    const value = env[key];
    if (typeof value === 'string' && value !== '') strings[key] = value;
  }
  const parsed = v.safeParse(EnvSchema, strings);
  if (!parsed.success) {
    const problems = parsed.issues.map((issue) => {
      const name = issue.path?.[0]?.key ?? '?';
      return `${String(name)}=${JSON.stringify(strings[String(name)] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
  }
  const e = parsed.output;
  // One without the other is a half-done TLS setup: refuse it rather than serve plain HTTP.
  if ((e.TLS_CERT === undefined) !== (e.TLS_KEY === undefined)) {
    const [set, missing] = e.TLS_CERT === undefined ? ['TLS_KEY', 'TLS_CERT'] : ['TLS_CERT', 'TLS_KEY'];
    throw new ConfigError(
      `invalid environment: ${set} is set but ${missing} is not: HTTPS needs both (the certificate and its private key, PEM files), or neither for plain HTTP`,
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    jwtSecret: e.JWT_SECRET,
    tokenTtlS: e.TOKEN_TTL_S,
    adminUsername: e.ADMIN_USERNAME,
    adminPassword: e.ADMIN_PASSWORD,
    allowedOrigins: e.ALLOWED_ORIGINS.map((o) => o.replace(/\/+$/, '')),
    anonymousRead: e.ANONYMOUS_READ,
    stunUrls: e.STUN_URLS,
    turnUrls: e.TURN_URLS,
    turnSecret: e.TURN_SECRET,
    metricsToken: e.METRICS_TOKEN,
    turnTtlS: e.TURN_TTL_S,
    helloTimeoutMs: e.HELLO_TIMEOUT_S * 1000,
    heartbeatTimeoutMs: e.HEARTBEAT_TIMEOUT_S * 1000,
    maxMessageBytes: e.MAX_MESSAGE_BYTES,
    rateLimitPerS: e.RATE_LIMIT_PER_S,
    rateLimitBurst: e.RATE_LIMIT_BURST,
    maxSocketsPerUser: e.MAX_SOCKETS_PER_USER,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxWatchesPerSocket: e.MAX_WATCHES_PER_SOCKET,
    maxViewersPerDevice: e.MAX_VIEWERS_PER_DEVICE,
    watchAnswerTimeoutMs: e.WATCH_ANSWER_TIMEOUT_S * 1000,
    stateLogSize: e.STATE_LOG_SIZE,
    historyLimit: e.HISTORY_LIMIT,
    maxSubscriptionsPerSocket: e.MAX_SUBSCRIPTIONS_PER_SOCKET,
    cameraPendingPerController: e.CAMERA_PENDING_PER_CONTROLLER,
    cameraPendingPerDevice: e.CAMERA_PENDING_PER_DEVICE,
    loginMaxFailures: e.LOGIN_MAX_FAILURES,
    loginMaxFailuresPerClient: e.LOGIN_MAX_FAILURES_PER_CLIENT,
    loginWindowMs: e.LOGIN_WINDOW_S * 1000,
    loginMaxConcurrent: e.LOGIN_MAX_CONCURRENT,
    loginMaxPerMinute: e.LOGIN_MAX_PER_MINUTE,
    passwordIterations: e.PASSWORD_ITERATIONS,
    tokenCacheSize: e.TOKEN_CACHE_SIZE,
    roomIdleMs: e.ROOM_IDLE_S * 1000,
    sendBufferBytes: e.SEND_BUFFER_BYTES,
    stateHighWaterBytes: e.STATE_HIGH_WATER_BYTES,
    trustProxy: e.TRUST_PROXY,
    tls: e.TLS_CERT !== undefined && e.TLS_KEY !== undefined ? { certFile: e.TLS_CERT, keyFile: e.TLS_KEY } : undefined,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
  };
}
