import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@fleet/config';
import { configSchema } from './config';

const env = {
  SERVICE_NAME: 'message-router',
  KAFKA_BROKERS: '127.0.0.1:9092',
  DATABASE_URL: 'postgres://fleet:fleet@127.0.0.1:5432/fleet',
  REDIS_URL: 'redis://127.0.0.1:6379',
  WHATSAPP_API_BASE_URL: 'http://127.0.0.1:9480',
  WHATSAPP_PHONE_NUMBER_ID: '100000000000001',
  WHATSAPP_ACCESS_TOKEN: 'local-whatsapp-token',
  INSTAGRAM_API_BASE_URL: 'http://127.0.0.1:9480',
  INSTAGRAM_ACCESS_TOKEN: 'local-instagram-token',
};

const issuesOf = (raw: Record<string, string | undefined>): string[] => {
  try {
    parseConfig(configSchema, raw);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.issues.map((issue) => issue.variable);
  }
  assert.fail('expected the config to be rejected');
};

describe('message-router config', () => {
  it('with only the required variables, the defaults are the issue’s: 3 attempts from 1 s, 24 h dedup, v21.0, port 9474', () => {
    const config = parseConfig(configSchema, env);
    assert.equal(config.HEALTH_PORT, 9474);
    assert.equal(config.ROUTER_CONSUMER_GROUP, 'message-router');
    assert.equal(config.ROUTER_MAX_ATTEMPTS, 6);
    assert.equal(config.ROUTER_RETRY_INITIAL_BACKOFF_MS, 1_000);
    assert.equal(config.ROUTER_DEDUP_TTL_SECONDS, 86_400);
    assert.equal(config.WHATSAPP_API_VERSION, 'v21.0');
    assert.equal(config.CHANNEL_TIMEOUT_MS, 10_000);
    assert.equal(config.ROUTER_PARTITIONS_CONCURRENCY, 3);
    assert.equal(config.ROUTER_KEY_CONCURRENCY, 4);
    assert.equal(config.ROUTER_CONFIRMATIONS_GROUP, 'message-router-confirmations');
    assert.equal(config.ROUTER_CONFIRMATION_GRACE_MS, 15_000);
  });

  it('a confirmation grace outside 1 s – 2 min, or a confirmations group equal to the routing group, is rejected by name', () => {
    assert.deepEqual(issuesOf({ ...env, ROUTER_CONFIRMATION_GRACE_MS: '500ms' }), [
      'ROUTER_CONFIRMATION_GRACE_MS',
    ]);
    assert.deepEqual(issuesOf({ ...env, ROUTER_CONFIRMATION_GRACE_MS: '3m' }), [
      'ROUTER_CONFIRMATION_GRACE_MS',
    ]);
    assert.deepEqual(issuesOf({ ...env, ROUTER_CONFIRMATIONS_GROUP: 'message-router' }), [
      'ROUTER_CONFIRMATIONS_GROUP',
    ]);
    assert.equal(
      parseConfig(configSchema, { ...env, ROUTER_CONFIRMATION_GRACE_MS: '5s' }).ROUTER_CONFIRMATION_GRACE_MS,
      5_000,
    );
  });

  it('base URLs and tokens have no defaults: each missing one is named', () => {
    const {
      WHATSAPP_API_BASE_URL: _a,
      WHATSAPP_ACCESS_TOKEN: _b,
      INSTAGRAM_API_BASE_URL: _c,
      INSTAGRAM_ACCESS_TOKEN: _d,
      WHATSAPP_PHONE_NUMBER_ID: _e,
      ...rest
    } = env;
    assert.deepEqual(issuesOf(rest).sort(), [
      'INSTAGRAM_ACCESS_TOKEN',
      'INSTAGRAM_API_BASE_URL',
      'WHATSAPP_ACCESS_TOKEN',
      'WHATSAPP_API_BASE_URL',
      'WHATSAPP_PHONE_NUMBER_ID',
    ]);
  });

  it('a send lease shorter than a channel call could take is rejected, naming the lease', () => {
    assert.deepEqual(issuesOf({ ...env, CHANNEL_TIMEOUT_MS: '10s', ROUTER_SEND_LEASE_MS: '5s' }), [
      'ROUTER_SEND_LEASE_MS',
    ]);
  });

  it('a base URL that is not http(s) is rejected', () => {
    assert.deepEqual(issuesOf({ ...env, WHATSAPP_API_BASE_URL: 'ftp://graph' }), ['WHATSAPP_API_BASE_URL']);
  });
});
