import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { ConfigError } from './config.errors';
import { loadConfigOrExit, parseConfig } from './config';
import { baseServiceEnv, envList, envPort } from './env';

const schema = baseServiceEnv.extend({ KAFKA_BROKERS: envList() });
const validEnv = { SERVICE_NAME: 'outbox-poller', HEALTH_PORT: '9464', KAFKA_BROKERS: '127.0.0.1:9092' };

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError to be thrown');
}

describe('parseConfig', () => {
  test('when every variable is valid, it returns the typed config with defaults applied', () => {
    assert.deepEqual(parseConfig(schema, validEnv), {
      SERVICE_NAME: 'outbox-poller',
      LOG_LEVEL: 'info',
      HEALTH_PORT: 9464,
      HEALTH_HOST: '127.0.0.1',
      OTEL_ENABLED: true,
      KAFKA_BROKERS: ['127.0.0.1:9092'],
    });
  });

  test('when a required variable is missing, the error names it as required', () => {
    const { KAFKA_BROKERS: _omitted, ...env } = validEnv;
    const error = configErrorOf(() => parseConfig(schema, env));
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.equal(error.message, 'Invalid configuration:\n  - KAFKA_BROKERS: required');
    assert.deepEqual(error.issues, [{ variable: 'KAFKA_BROKERS', reason: 'required' }]);
  });

  test('when a variable is set to an empty string, it counts as missing and defaults apply', () => {
    const error = configErrorOf(() => parseConfig(schema, { ...validEnv, KAFKA_BROKERS: '  ' }));
    assert.deepEqual(error.issues, [{ variable: 'KAFKA_BROKERS', reason: 'required' }]);
    assert.equal(parseConfig(schema, { ...validEnv, LOG_LEVEL: '' }).LOG_LEVEL, 'info');
  });

  test('when a value is invalid, the error names the variable, the expectation and the value', () => {
    const error = configErrorOf(() => parseConfig(schema, { ...validEnv, HEALTH_PORT: 'abc' }));
    assert.equal(
      error.message,
      'Invalid configuration:\n  - HEALTH_PORT: expected an integer between 1 and 65535, got "abc"',
    );
  });

  test('when several variables are bad, all of them are reported together in schema order', () => {
    const error = configErrorOf(() =>
      parseConfig(schema, { SERVICE_NAME: 'Bad Name', HEALTH_PORT: '70000', LOG_LEVEL: 'loud' }),
    );
    assert.equal(
      error.message,
      [
        'Invalid configuration:',
        '  - SERVICE_NAME: expected lowercase letters, digits and dashes, starting with a letter, got "Bad Name"',
        '  - LOG_LEVEL: expected one of silent, fatal, error, warn, info, debug, trace, got "loud"',
        '  - HEALTH_PORT: expected an integer between 1 and 65535, got "70000"',
        '  - KAFKA_BROKERS: required',
      ].join('\n'),
    );
    assert.ok(error.cause instanceof z.ZodError, 'the zod error is kept as the cause');
  });

  test('when one variable fails several rules, they share one line', () => {
    const strict = z.object({ CODE: z.string().min(5, 'too short').regex(/^\d+$/, 'digits only') });
    const error = configErrorOf(() => parseConfig(strict, { CODE: 'ab' }));
    assert.deepEqual(error.issues, [
      { variable: 'CODE', reason: 'too short, got "ab"; digits only, got "ab"' },
    ]);
  });

  test('when a secret-looking variable is invalid, its value is not echoed', () => {
    const secrets = z.object({ DB_PASSWORD: envPort(), WEBHOOK_API_KEY: envPort() });
    const error = configErrorOf(() =>
      parseConfig(secrets, { DB_PASSWORD: 'hunter2', WEBHOOK_API_KEY: 'k-123' }),
    );
    assert.doesNotMatch(error.message, /hunter2|k-123/);
    assert.match(error.message, /DB_PASSWORD: expected an integer between 1 and 65535, got \(redacted\)/);
  });

  test('when an invalid value contains URL credentials, the password is masked and long values are cut', () => {
    const urls = z.object({ DATABASE_URL: envPort(), NOTE: envPort() });
    const error = configErrorOf(() =>
      parseConfig(urls, { DATABASE_URL: 'postgres://fleet:s3cret@db:5432/fleet', NOTE: 'x'.repeat(100) }),
    );
    assert.match(error.message, /got "postgres:\/\/fleet:\*\*\*@db:5432\/fleet"/);
    assert.doesNotMatch(error.message, /s3cret/);
    assert.match(error.message, new RegExp(`got "${'x'.repeat(80)}…"`));
  });

  test('when an object-level rule fails, it is reported under (environment)', () => {
    const pair = z
      .object({ A: z.string().optional(), B: z.string().optional() })
      .refine((env) => (env.A === undefined) === (env.B === undefined), 'set both A and B or neither');
    const error = configErrorOf(() => parseConfig(pair, { A: 'x' }));
    assert.deepEqual(error.issues, [{ variable: '(environment)', reason: 'set both A and B or neither' }]);
  });
});

describe('loadConfigOrExit', () => {
  class Exited extends Error {
    constructor(readonly code: number) {
      super(`exit ${code}`);
    }
  }
  const exit = (code: number): never => {
    throw new Exited(code);
  };

  test('when the config is invalid, it writes the report and exits with code 1', () => {
    const written: string[] = [];
    assert.throws(
      () => loadConfigOrExit(schema, { SERVICE_NAME: 'svc' }, { exit, write: (text) => written.push(text) }),
      (error: unknown) => error instanceof Exited && error.code === 1,
    );
    assert.deepEqual(written, [
      'Invalid configuration:\n  - HEALTH_PORT: required\n  - KAFKA_BROKERS: required\n',
    ]);
  });

  test('when the config is valid, it returns it without writing or exiting', () => {
    const written: string[] = [];
    const config = loadConfigOrExit(schema, validEnv, { exit, write: (text) => written.push(text) });
    assert.equal(config.HEALTH_PORT, 9464);
    assert.deepEqual(written, []);
  });

  test('when the schema itself throws something else, the error propagates instead of exiting', () => {
    const broken = z.object({
      A: z.string().transform(() => {
        throw new TypeError('bug in a transform');
      }),
    });
    assert.throws(() => loadConfigOrExit(broken, { A: 'x' }, { exit, write: () => {} }), TypeError);
  });
});
