import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type TestSchema } from '@fleet/db/testing';
import { AppProcess } from '@fleet/service-kit/testing';
import { base64url } from 'jose';
import {
  AUDIENCE,
  call,
  createApiSchema,
  createKeys,
  ISSUER,
  startApi,
  tokenFor,
  type ApiUnderTest,
  type TestKeys,
} from './harness';

const body = { participants: [], channel: 'whatsapp', recipients: { whatsapp: '+5511999990000' } };

/** A token signed some other way than the api's keys allow. */
function forged(header: object, payload: object, sign: (input: string) => string): string {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  return `${input}.${sign(input)}`;
}

describe('api auth: bearer JWTs checked on every protected route', () => {
  let db: TestSchema;
  let keys: TestKeys;
  let api: ApiUnderTest;

  before(async () => {
    db = await createApiSchema();
    keys = await createKeys();
    api = await startApi(db.schema, keys);
  });
  after(async () => {
    await api?.stop();
    await db?.drop();
  });

  const refused = async (
    token: string | undefined,
    reason: string,
    bearerError = 'invalid_token',
    headers = {},
  ) => {
    const answer = await call<{ error: { code: string; details: { reason: string } } }>(
      api,
      'POST',
      '/v1/conversations',
      {
        token,
        body,
        headers,
      },
    );
    assert.equal(answer.status, 401, answer.text);
    assert.equal(answer.body.error.code, 'UNAUTHENTICATED');
    assert.equal(answer.body.error.details.reason, reason);
    assert.match(
      answer.headers.get('www-authenticate') ?? '',
      new RegExp(`^Bearer .*error="${bearerError}"`),
    );
    const [{ n }] = await db.dataSource.query('SELECT count(*)::int AS n FROM conversations');
    assert.equal(n, 0, 'a refused request stores nothing');
  };

  test('without a token, 401 TOKEN_MISSING with a Bearer challenge', () =>
    refused(undefined, 'TOKEN_MISSING', 'invalid_request'));

  test('with a non-Bearer Authorization header, 401 AUTHORIZATION_MALFORMED', () =>
    refused(undefined, 'AUTHORIZATION_MALFORMED', 'invalid_request', {
      authorization: 'Basic YWxpY2U6c2VjcmV0',
    }));

  test('with a token signed by an unknown key, 401 TOKEN_SIGNATURE_INVALID', async () =>
    refused(await tokenFor(keys, 'alice', { key: keys.stranger }), 'TOKEN_SIGNATURE_INVALID'));

  test('with alg "none", 401 TOKEN_ALGORITHM_NOT_ALLOWED', () => {
    const now = Math.floor(Date.now() / 1000);
    const token = forged(
      { alg: 'none', typ: 'JWT' },
      { sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now + 600 },
      () => '',
    );
    return refused(token, 'TOKEN_ALGORITHM_NOT_ALLOWED');
  });

  test('with HS256 (not configured; the public key as HMAC secret), 401 TOKEN_ALGORITHM_NOT_ALLOWED', () => {
    const now = Math.floor(Date.now() / 1000);
    const token = forged(
      { alg: 'HS256', typ: 'JWT' },
      { sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now + 600 },
      (input) => createHmac('sha256', 'guessed').update(input).digest('base64url'),
    );
    return refused(token, 'TOKEN_ALGORITHM_NOT_ALLOWED');
  });

  test('with a wrong issuer, 401 TOKEN_CLAIM_INVALID', async () =>
    refused(await tokenFor(keys, 'alice', { issuer: 'someone-else' }), 'TOKEN_CLAIM_INVALID'));

  test('with a wrong audience, 401 TOKEN_CLAIM_INVALID', async () =>
    refused(await tokenFor(keys, 'alice', { audience: 'other-api' }), 'TOKEN_CLAIM_INVALID'));

  test('with an expired token (past the clock tolerance), 401 TOKEN_EXPIRED', async () =>
    refused(await tokenFor(keys, 'alice', { expiresInS: -60 }), 'TOKEN_EXPIRED'));

  test('with a token not yet valid (nbf past the tolerance), 401 TOKEN_NOT_YET_VALID', async () =>
    refused(await tokenFor(keys, 'alice', { notBeforeS: 120 }), 'TOKEN_NOT_YET_VALID'));

  test('with a garbled token, 401 TOKEN_MALFORMED', () => refused('abc.def.ghi', 'TOKEN_MALFORMED'));

  test('with a valid token, the request passes and sub is the user id', async () => {
    const answer = await call<{ createdBy: string; participants: string[] }>(
      api,
      'POST',
      '/v1/conversations',
      {
        token: await tokenFor(keys, 'alice', { notBeforeS: 2 }), // within the 5 s tolerance
        body,
      },
    );
    assert.equal(answer.status, 201, answer.text);
    assert.equal(answer.body.createdBy, 'alice');
    assert.deepEqual(answer.body.participants, ['alice']);
  });
});

describe('api config: keys come from config only', () => {
  test('when no verification key is configured, the api exits 1 naming the variables', async () => {
    const app = await AppProcess.start({
      app: 'api',
      env: {
        DATABASE_URL: 'postgres://x@127.0.0.1:1/x',
        KAFKA_BROKERS: '127.0.0.1:1',
        REDIS_URL: 'redis://127.0.0.1:1',
        AUTH_JWT_ISSUER: ISSUER,
        AUTH_JWT_AUDIENCE: AUDIENCE,
      },
    });
    const { code } = await app.exited;
    assert.equal(code, 1);
    assert.match(
      app.tail(),
      /AUTH_JWT_PUBLIC_KEY, AUTH_JWT_PUBLIC_KEY_FILE, AUTH_JWKS_FILE or AUTH_DEV_KEY_DIR/,
    );
  });

  test('when HS256 is allowed without a secret, the api exits 1 naming AUTH_JWT_SECRET', async () => {
    const app = await AppProcess.start({
      app: 'api',
      env: {
        DATABASE_URL: 'postgres://x@127.0.0.1:1/x',
        KAFKA_BROKERS: '127.0.0.1:1',
        REDIS_URL: 'redis://127.0.0.1:1',
        AUTH_JWT_ISSUER: ISSUER,
        AUTH_JWT_AUDIENCE: AUDIENCE,
        AUTH_JWT_ALGORITHMS: 'HS256',
      },
    });
    assert.equal((await app.exited).code, 1);
    assert.match(app.tail(), /AUTH_JWT_SECRET: required/);
  });
});
