import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@fleet/config';
import { DEFAULT_LOCAL_LLM_ENDPOINT, llmEnv, llmEnvIssues, llmOptionsFromEnv, refineLlmEnv } from './config';

const PRIVATE_NETWORK = /^https?:\/\/(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.|169\.254\.|\[?f[cd])/i;

describe('llmEnv', () => {
  it('defaults to LM Studio on loopback with one request at a time, 120 s timeout and 2 output retries', () => {
    const env = parseConfig(llmEnv, { LOCAL_LLM_MODEL: 'qwen2.5-7b-instruct' });
    assert.equal(env.LOCAL_LLM_ENDPOINT, 'http://127.0.0.1:1234/v1');
    assert.equal(DEFAULT_LOCAL_LLM_ENDPOINT, env.LOCAL_LLM_ENDPOINT);
    assert.doesNotMatch(env.LOCAL_LLM_ENDPOINT, PRIVATE_NETWORK);
    assert.equal(env.LLM_REQUEST_TIMEOUT_MS, 120_000);
    assert.equal(env.LLM_MAX_CONCURRENCY, 1);
    assert.equal(env.LLM_MAX_OUTPUT_RETRIES, 2);
    assert.equal(env.LLM_FALLBACK_ENDPOINT, undefined);
  });

  it('requires the model', () => {
    assert.throws(
      () => parseConfig(llmEnv, {}),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.issues.some((i) => i.variable === 'LOCAL_LLM_MODEL' && i.reason === 'required'),
    );
  });

  it('parses durations with units and refuses bad values naming each variable', () => {
    const env = parseConfig(llmEnv, {
      LOCAL_LLM_MODEL: 'm',
      LLM_REQUEST_TIMEOUT_MS: '90s',
      LLM_BREAKER_RESET_MS: '1m',
    });
    assert.equal(env.LLM_REQUEST_TIMEOUT_MS, 90_000);
    assert.equal(env.LLM_BREAKER_RESET_MS, 60_000);
    // Node's fetch stops waiting for headers after 300 s: a longer timeout would not be honoured.
    assert.throws(
      () => parseConfig(llmEnv, { LOCAL_LLM_MODEL: 'm', LLM_REQUEST_TIMEOUT_MS: '10m' }),
      /LLM_REQUEST_TIMEOUT_MS/,
    );
    assert.throws(
      () =>
        parseConfig(llmEnv, {
          LOCAL_LLM_MODEL: 'm',
          LOCAL_LLM_ENDPOINT: 'localhost:1234',
          LLM_MAX_CONCURRENCY: '0',
          LLM_FALLBACK_ENDPOINT: 'ftp://x',
        }),
      (error: unknown) =>
        error instanceof ConfigError &&
        ['LOCAL_LLM_ENDPOINT', 'LLM_MAX_CONCURRENCY', 'LLM_FALLBACK_ENDPOINT'].every((v) =>
          error.issues.some((i) => i.variable === v),
        ),
    );
  });
});

describe('llmEnvIssues / refineLlmEnv', () => {
  const base = parseConfig(llmEnv, { LOCAL_LLM_MODEL: 'm' });

  it('finds nothing wrong without a fallback', () => {
    assert.deepEqual(llmEnvIssues(base), []);
  });

  it('wants the fallback model with the fallback endpoint, and no fallback settings without it', () => {
    assert.deepEqual(
      llmEnvIssues({ ...base, LLM_FALLBACK_ENDPOINT: 'https://openrouter.ai/api/v1' }).map((i) => i.variable),
      ['LLM_FALLBACK_MODEL'],
    );
    assert.deepEqual(
      llmEnvIssues({ ...base, LLM_FALLBACK_MODEL: 'x', LLM_FALLBACK_API_KEY: 'k' }).map((i) => i.variable),
      ['LLM_FALLBACK_MODEL', 'LLM_FALLBACK_API_KEY'],
    );
  });

  it('refuses a key and a key file together', () => {
    const issues = llmEnvIssues({
      ...base,
      LOCAL_LLM_API_KEY: 'a',
      LOCAL_LLM_API_KEY_FILE: '/run/secrets/k',
    });
    assert.deepEqual(
      issues.map((i) => i.variable),
      ['LOCAL_LLM_API_KEY_FILE'],
    );
  });

  it('as a refinement of an app schema, puts the rule into the boot report', () => {
    assert.throws(
      () =>
        parseConfig(llmEnv.superRefine(refineLlmEnv), {
          LOCAL_LLM_MODEL: 'm',
          LLM_FALLBACK_ENDPOINT: 'https://x/v1',
        }),
      /LLM_FALLBACK_MODEL: required when LLM_FALLBACK_ENDPOINT is set/,
    );
  });
});

describe('llmOptionsFromEnv', () => {
  it('maps the env onto client options, without a fallback when none is configured', () => {
    const options = llmOptionsFromEnv(
      parseConfig(llmEnv, { LOCAL_LLM_MODEL: 'm', LLM_MAX_OUTPUT_RETRIES: '4' }),
    );
    assert.deepEqual(options.primary, {
      url: 'http://127.0.0.1:1234/v1',
      model: 'm',
      apiKey: undefined,
      maxConcurrency: 1,
    });
    assert.equal(options.fallback, undefined);
    assert.equal(options.maxOutputRetries, 4);
    assert.deepEqual(options.breaker, {
      failureThresholdPercent: 50,
      minimumCalls: 3,
      windowMs: 300_000,
      resetTimeoutMs: 30_000,
    });
  });

  it('reads the fallback key from its file, trimmed', () => {
    const env = parseConfig(llmEnv, {
      LOCAL_LLM_MODEL: 'm',
      LLM_FALLBACK_ENDPOINT: 'https://openrouter.ai/api/v1',
      LLM_FALLBACK_MODEL: 'qwen/qwen-2.5-7b-instruct',
      LLM_FALLBACK_API_KEY_FILE: '/run/secrets/openrouter',
    });
    const read: string[] = [];
    const options = llmOptionsFromEnv(env, {
      readFile: (path) => {
        read.push(path);
        return 'sk-or-test\n';
      },
    });
    assert.deepEqual(read, ['/run/secrets/openrouter']);
    assert.deepEqual(options.fallback, {
      url: 'https://openrouter.ai/api/v1',
      model: 'qwen/qwen-2.5-7b-instruct',
      apiKey: 'sk-or-test',
      maxConcurrency: 4,
    });
  });

  it('fails naming the variable when the key file cannot be read or is empty', () => {
    const env = parseConfig(llmEnv, {
      LOCAL_LLM_MODEL: 'm',
      LLM_FALLBACK_ENDPOINT: 'https://x/v1',
      LLM_FALLBACK_MODEL: 'y',
      LLM_FALLBACK_API_KEY_FILE: '/nope',
    });
    assert.throws(
      () =>
        llmOptionsFromEnv(env, {
          readFile: () => {
            throw new Error('ENOENT: no such file');
          },
        }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.issues[0].variable === 'LLM_FALLBACK_API_KEY_FILE' &&
        /ENOENT/.test(error.issues[0].reason),
    );
    assert.throws(() => llmOptionsFromEnv(env, { readFile: () => ' \n' }), /is empty/);
  });

  it('applies the cross-variable rules even when the app did not refine its schema', () => {
    const env = parseConfig(llmEnv, { LOCAL_LLM_MODEL: 'm', LLM_FALLBACK_ENDPOINT: 'https://x/v1' });
    assert.throws(() => llmOptionsFromEnv(env), /LLM_FALLBACK_MODEL/);
  });
});
