import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/core/config.ts';

const SECRET = 'x'.repeat(32);

/** The ConfigError loadConfig throws for env, failing the test if it throws nothing or something else. */
function configError(env: Record<string, unknown>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('loadConfig accepted a bad environment');
}

describe('loadConfig defaults', () => {
  const config = loadConfig({});

  test('the server listens on 0.0.0.0:8000', () => {
    assert.equal(config.port, 8000);
    assert.equal(config.host, '0.0.0.0');
  });

  test('timeouts default to 10 s hello, 90 s heartbeat and 30 s watch answer, in milliseconds', () => {
    assert.equal(config.helloTimeoutMs, 10_000);
    assert.equal(config.heartbeatTimeoutMs, 90_000);
    assert.equal(config.watchAnswerTimeoutMs, 30_000);
  });

  test('secrets and the admin password are unset', () => {
    assert.equal(config.jwtSecret, undefined);
    assert.equal(config.adminPassword, undefined);
    assert.equal(config.turnSecret, undefined);
  });

  test('lists are empty', () => {
    assert.deepEqual(config.allowedOrigins, []);
    assert.deepEqual(config.stunUrls, []);
    assert.deepEqual(config.turnUrls, []);
  });

  test('the remaining settings have their documented defaults', () => {
    assert.deepEqual(
      {
        dataDir: config.dataDir,
        tokenTtlS: config.tokenTtlS,
        adminUsername: config.adminUsername,
        anonymousRead: config.anonymousRead,
        turnTtlS: config.turnTtlS,
        maxMessageBytes: config.maxMessageBytes,
        rateLimitPerS: config.rateLimitPerS,
        rateLimitBurst: config.rateLimitBurst,
        maxSocketsPerUser: config.maxSocketsPerUser,
        maxBodyBytes: config.maxBodyBytes,
        maxWatchesPerSocket: config.maxWatchesPerSocket,
        maxViewersPerDevice: config.maxViewersPerDevice,
        loginMaxFailures: config.loginMaxFailures,
        loginMaxFailuresPerClient: config.loginMaxFailuresPerClient,
        loginWindowMs: config.loginWindowMs,
        passwordIterations: config.passwordIterations,
        tokenCacheSize: config.tokenCacheSize,
        roomIdleMs: config.roomIdleMs,
        sendBufferBytes: config.sendBufferBytes,
        trustProxy: config.trustProxy,
        logLevel: config.logLevel,
      },
      {
        dataDir: './data',
        tokenTtlS: 3600,
        adminUsername: 'admin',
        anonymousRead: true,
        turnTtlS: 3600,
        maxMessageBytes: 65536,
        rateLimitPerS: 100,
        rateLimitBurst: 500,
        maxSocketsPerUser: 1000,
        maxBodyBytes: 65536,
        maxWatchesPerSocket: 16,
        maxViewersPerDevice: 64,
        loginMaxFailures: 10,
        loginMaxFailuresPerClient: 30,
        loginWindowMs: 900_000,
        passwordIterations: 600_000,
        tokenCacheSize: 1000,
        roomIdleMs: 60_000,
        sendBufferBytes: 4 * 1024 * 1024,
        trustProxy: false,
        logLevel: 'info',
      },
    );
  });

  test('an empty string counts as unset', () => {
    assert.equal(loadConfig({ PORT: '', HOST: '' }).port, 8000);
    assert.equal(loadConfig({ HOST: '' }).host, '0.0.0.0');
  });
});

describe('loadConfig parsing', () => {
  test('numbers are read from their strings', () => {
    const config = loadConfig({ PORT: '9000', RATE_LIMIT_PER_S: '5', RATE_LIMIT_BURST: '7' });
    assert.equal(config.port, 9000);
    assert.equal(config.rateLimitPerS, 5);
    assert.equal(config.rateLimitBurst, 7);
  });

  test('PORT=0 (any free port) is accepted', () => {
    assert.equal(loadConfig({ PORT: '0' }).port, 0);
  });

  test('ALLOWED_ORIGINS is split on commas, trimmed, and loses trailing slashes and empty items', () => {
    const config = loadConfig({ ALLOWED_ORIGINS: ' https://a.example/ , https://b.example:8443,,http://c.example// ' });
    assert.deepEqual(config.allowedOrigins, ['https://a.example', 'https://b.example:8443', 'http://c.example']);
  });

  test('STUN_URLS and TURN_URLS are split on commas and trimmed', () => {
    const config = loadConfig({ STUN_URLS: 'stun:a.example, stun:b.example', TURN_URLS: ' turn:t.example:3478 ' });
    assert.deepEqual(config.stunUrls, ['stun:a.example', 'stun:b.example']);
    assert.deepEqual(config.turnUrls, ['turn:t.example:3478']);
  });

  for (const [text, value] of [
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ] as const) {
    test(`the boolean ${text} reads as ${value}`, () => {
      assert.equal(loadConfig({ TRUST_PROXY: text }).trustProxy, value);
      assert.equal(loadConfig({ ANONYMOUS_READ: text }).anonymousRead, value);
    });
  }

  test('fractional seconds become milliseconds', () => {
    const config = loadConfig({ HELLO_TIMEOUT_S: '0.5', HEARTBEAT_TIMEOUT_S: '2.5', WATCH_ANSWER_TIMEOUT_S: '0.25' });
    assert.equal(config.helloTimeoutMs, 500);
    assert.equal(config.heartbeatTimeoutMs, 2500);
    assert.equal(config.watchAnswerTimeoutMs, 250);
  });

  test('secrets and strings pass through unchanged', () => {
    const config = loadConfig({ JWT_SECRET: SECRET, TURN_SECRET: 't', ADMIN_PASSWORD: 'password1', HOST: '127.0.0.1' });
    assert.equal(config.jwtSecret, SECRET);
    assert.equal(config.turnSecret, 't');
    assert.equal(config.adminPassword, 'password1');
    assert.equal(config.host, '127.0.0.1');
  });

  test('LOG_LEVEL accepts a known level', () => {
    assert.equal(loadConfig({ LOG_LEVEL: 'debug' }).logLevel, 'debug');
  });

  test('LOG_FORMAT is text unless json is asked for', () => {
    assert.equal(loadConfig({}).logFormat, 'text');
    assert.equal(loadConfig({ LOG_FORMAT: 'json' }).logFormat, 'json');
  });

  test('non-string entries such as Workers bindings are ignored', () => {
    const binding = { idFromName() {}, get() {} };
    const config = loadConfig({ PORT: binding, JWT_SECRET: binding, ASSETS: { fetch() {} }, RATE_LIMIT_PER_S: 7 });
    assert.equal(config.port, 8000);
    assert.equal(config.jwtSecret, undefined);
    assert.equal(config.rateLimitPerS, 100);
  });

  test('unknown string variables are ignored', () => {
    assert.equal(loadConfig({ PATH: '/usr/bin', PORT: '8080' }).port, 8080);
  });
});

describe('loadConfig errors', () => {
  for (const [name, value, words] of [
    ['PORT', 'abc', 'number'],
    ['PORT', '65536', 'at most 65535'],
    ['PORT', '80.5', 'whole number'],
    ['JWT_SECRET', 'x'.repeat(31), '32 bytes'],
    ['ADMIN_PASSWORD', 'short', '8 characters'],
    ['RATE_LIMIT_PER_S', '0', 'at least 1'],
    ['TOKEN_TTL_S', '59', 'at least 60'],
    ['PASSWORD_ITERATIONS', '99999', 'at least 100000'],
    ['LOGIN_MAX_FAILURES', '11', 'at most 10'],
    ['HEARTBEAT_TIMEOUT_S', 'soon', 'seconds'],
    ['HELLO_TIMEOUT_S', '0.01', 'at least 0.05'],
    ['TRUST_PROXY', 'maybe', 'true or false'],
    ['LOG_LEVEL', 'verbose', ''],
    ['LOG_FORMAT', 'yaml', 'text or json'],
  ] as const) {
    test(`${name}=${value.length > 20 ? `<${value.length} chars>` : value} throws a ConfigError naming ${name}`, () => {
      const error = configError({ [name]: value });
      assert.equal(error.name, 'ConfigError');
      assert.match(error.message, new RegExp(`\\b${name}=`));
      assert.ok(error.message.includes(words), `"${error.message}" should mention "${words}"`);
    });
  }

  test('JWT_SECRET counts bytes, so 16 two-byte characters are enough', () => {
    assert.equal(loadConfig({ JWT_SECRET: 'é'.repeat(16) }).jwtSecret, 'é'.repeat(16));
  });

  test('every bad variable is named in one error', () => {
    const error = configError({ PORT: 'abc', RATE_LIMIT_PER_S: '0', HOST: '::' });
    assert.match(error.message, /\bPORT=/);
    assert.match(error.message, /\bRATE_LIMIT_PER_S=/);
    assert.doesNotMatch(error.message, /\bHOST=/);
  });
});

describe('loadConfig: strict numbers', () => {
  test('blank, hexadecimal and exponent numbers are refused, naming the variable', () => {
    for (const [name, value] of [
      ['PORT', ' '],
      ['PORT', '0x1F40'],
      ['MAX_MESSAGE_BYTES', '1e5'],
      ['HEARTBEAT_TIMEOUT_S', 'Infinity'],
    ] as const) {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (error: Error) => error instanceof ConfigError && error.message.includes(name),
      );
    }
  });

  test('timeouts longer than a week are refused, since timers would overflow', () => {
    assert.throws(() => loadConfig({ HEARTBEAT_TIMEOUT_S: '2000000000' }), /HEARTBEAT_TIMEOUT_S.*at most 604800/);
  });
});

describe('loadConfig: TLS', () => {
  test('without TLS_CERT and TLS_KEY the server speaks plain HTTP', () => {
    assert.equal(loadConfig({}).tls, undefined);
  });

  test('TLS_CERT and TLS_KEY together turn on HTTPS with those files', () => {
    assert.deepEqual(loadConfig({ TLS_CERT: '/etc/edgecam/server.pem', TLS_KEY: '/etc/edgecam/server.key' }).tls, {
      certFile: '/etc/edgecam/server.pem',
      keyFile: '/etc/edgecam/server.key',
    });
  });

  test('one without the other is a ConfigError naming the one missing', () => {
    assert.match(configError({ TLS_CERT: '/etc/edgecam/server.pem' }).message, /TLS_CERT is set but TLS_KEY is not/);
    assert.match(configError({ TLS_KEY: '/etc/edgecam/server.key', TLS_CERT: '' }).message, /TLS_KEY is set but TLS_CERT is not/);
  });
});
