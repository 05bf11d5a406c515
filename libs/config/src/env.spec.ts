import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type z } from 'zod';
import { baseServiceEnv, envBoolean, envDurationMs, envInt, envList, envUrl } from './env';

/** Parses one value and returns either the value or the first issue message. */
function parse<T>(schema: z.ZodType<T>, raw: string): { value: T } | { error: string } {
  const result = schema.safeParse(raw);
  return result.success ? { value: result.data } : { error: result.error.issues[0].message };
}

describe('envInt', () => {
  test('when the value is an integer within bounds, it is returned as a number', () => {
    assert.deepEqual(parse(envInt({ min: 1, max: 10 }), ' 10 '), { value: 10 });
    assert.deepEqual(parse(envInt(), '-42'), { value: -42 });
  });

  test('when the value is not a plain integer, it is rejected', () => {
    for (const raw of ['abc', '1.5', '1e3', '12px', '99999999999999999999']) {
      assert.deepEqual(parse(envInt(), raw), { error: 'expected an integer' }, raw);
    }
  });

  test('when the value is out of bounds, the message states the bounds that were configured', () => {
    assert.deepEqual(parse(envInt({ min: 1, max: 10 }), '11'), {
      error: 'expected an integer between 1 and 10',
    });
    assert.deepEqual(parse(envInt({ min: 0 }), '-1'), { error: 'expected an integer >= 0' });
    assert.deepEqual(parse(envInt({ max: 5 }), '6'), { error: 'expected an integer <= 5' });
  });
});

describe('envBoolean', () => {
  test('when the value is true/false/1/0 in any case, it maps to a boolean', () => {
    assert.deepEqual(
      ['true', 'TRUE', '1', 'false', 'False', '0'].map((raw) => parse(envBoolean(), raw)),
      [true, true, true, false, false, false].map((value) => ({ value })),
    );
  });

  test('when the value is anything else, it is rejected instead of read as false', () => {
    assert.deepEqual(parse(envBoolean(), 'yes'), { error: 'expected true, false, 1 or 0' });
  });
});

describe('envList', () => {
  test('when the value has commas, items are trimmed and empty items dropped', () => {
    assert.deepEqual(parse(envList(), ' a:9092, b:9092,,'), { value: ['a:9092', 'b:9092'] });
  });

  test('when the value has no items, it is rejected', () => {
    assert.deepEqual(parse(envList(), ' , '), {
      error: 'expected a comma-separated list with at least one item',
    });
  });
});

describe('envUrl', () => {
  test('when the value is an absolute URL with an accepted scheme, it is returned trimmed', () => {
    assert.deepEqual(parse(envUrl({ protocols: ['http', 'https'] }), ' http://127.0.0.1:4318 '), {
      value: 'http://127.0.0.1:4318',
    });
    assert.deepEqual(parse(envUrl(), 'postgres://u:p@h/db'), { value: 'postgres://u:p@h/db' });
  });

  test('when the value is not an absolute URL or has another scheme, it is rejected', () => {
    assert.deepEqual(parse(envUrl(), '127.0.0.1:4318'), { error: 'expected an absolute URL' });
    assert.deepEqual(parse(envUrl({ protocols: ['http', 'https'] }), 'ftp://x'), {
      error: 'expected an absolute http or https URL',
    });
  });
});

describe('envDurationMs', () => {
  test('when the value is bare or has a unit, it is converted to milliseconds', () => {
    assert.deepEqual(
      ['1500', '500ms', '30s', '5m', '1h'].map((raw) => parse(envDurationMs(), raw)),
      [1500, 500, 30_000, 300_000, 3_600_000].map((value) => ({ value })),
    );
  });

  test('when the value has an unknown unit or is negative, it is rejected', () => {
    for (const raw of ['5d', '-1', '1.5s', 's']) {
      assert.deepEqual(
        parse(envDurationMs(), raw),
        { error: 'expected a duration such as 1500, 500ms, 30s, 5m or 1h' },
        raw,
      );
    }
  });
});

describe('baseServiceEnv', () => {
  test('when only the required variables are set, the documented defaults apply', () => {
    assert.deepEqual(baseServiceEnv.parse({ SERVICE_NAME: 'api', HEALTH_PORT: '8081' }), {
      SERVICE_NAME: 'api',
      LOG_LEVEL: 'info',
      HEALTH_PORT: 8081,
      HEALTH_HOST: '127.0.0.1',
      OTEL_ENABLED: true,
    });
  });

  test('when an app extends it, it can give HEALTH_PORT a default of its own', () => {
    const appEnv = baseServiceEnv.extend({ HEALTH_PORT: baseServiceEnv.shape.HEALTH_PORT.default(9464) });
    assert.equal(appEnv.parse({ SERVICE_NAME: 'api' }).HEALTH_PORT, 9464);
  });

  test('when tracing variables are set, they are parsed', () => {
    const env = baseServiceEnv.parse({
      SERVICE_NAME: 'api',
      HEALTH_PORT: '8081',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      OTEL_ENABLED: 'false',
    });
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://127.0.0.1:4318');
    assert.equal(env.OTEL_ENABLED, false);
  });
});
