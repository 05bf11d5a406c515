import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { AuthError } from './auth.errors';
import { JwtVerifier } from './jwt-verifier';

const options = { issuer: 'iss', audience: 'aud', clockToleranceS: 5 };

async function setup(algorithms: Array<'ES256' | 'HS256'>, secret?: string, cacheSize?: number) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const verifier = new JwtVerifier({
    ...options,
    algorithms,
    keys: { jwks: { keys: [{ ...jwk, alg: 'ES256' }] }, secret },
    cacheSize,
  });
  return { verifier, privateKey };
}

const NOW_S = 1_800_000_000;

/** An ES256 token for `sub`, valid from `nbf` (if given) until `exp` (epoch seconds). */
function sign(privateKey: CryptoKey, sub: string, { exp, nbf }: { exp: number; nbf?: number }) {
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'ES256' })
    .setSubject(sub)
    .setIssuer('iss')
    .setAudience('aud')
    .setExpirationTime(exp);
  if (nbf !== undefined) jwt.setNotBefore(nbf);
  return jwt.sign(privateKey);
}

const rejectsWith = async (promise: Promise<unknown>, code: string) =>
  assert.rejects(promise, (error: unknown) => error instanceof AuthError && error.code === code);

describe('JwtVerifier', () => {
  it('accepts an allowed, well-formed token and returns sub as the user id', async () => {
    const { verifier, privateKey } = await setup(['ES256']);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('u1')
      .setIssuer('iss')
      .setAudience('aud')
      .setExpirationTime('1m')
      .sign(privateKey);
    assert.deepEqual(await verifier.verifyAuthorization(`Bearer ${token}`), { userId: 'u1', scopes: [] });
  });

  it('reads the scope claim, space-separated; a malformed one is refused', async () => {
    const { verifier, privateKey } = await setup(['ES256']);
    const withScope = (scope: unknown) =>
      new SignJWT({ scope })
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject('op')
        .setIssuer('iss')
        .setAudience('aud')
        .setExpirationTime('1m')
        .sign(privateKey);
    assert.deepEqual(await verifier.verifyToken(await withScope('fleet:operator  read')), {
      userId: 'op',
      scopes: ['fleet:operator', 'read'],
    });
    await rejectsWith(verifier.verifyToken(await withScope(['fleet:operator'])), 'TOKEN_CLAIM_INVALID');
    await rejectsWith(verifier.verifyToken(await withScope('a"b')), 'TOKEN_CLAIM_INVALID');
  });

  it('requires exp and sub', async () => {
    const { verifier, privateKey } = await setup(['ES256']);
    const noExp = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('u1')
      .setIssuer('iss')
      .setAudience('aud')
      .sign(privateKey);
    await rejectsWith(verifier.verifyToken(noExp), 'TOKEN_CLAIM_INVALID');
  });

  it('HS256 works only when configured, with its secret', async () => {
    const secret = 'x'.repeat(32);
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u2')
      .setIssuer('iss')
      .setAudience('aud')
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(secret));
    const withHs = await setup(['ES256', 'HS256'], secret);
    assert.deepEqual(await withHs.verifier.verifyToken(hs), { userId: 'u2', scopes: [] });
    const without = await setup(['ES256']);
    await rejectsWith(without.verifier.verifyToken(hs), 'TOKEN_ALGORITHM_NOT_ALLOWED');
  });

  it('tells a missing header from a malformed one', async () => {
    const { verifier } = await setup(['ES256']);
    await rejectsWith(verifier.verifyAuthorization(undefined), 'TOKEN_MISSING');
    await rejectsWith(verifier.verifyAuthorization('Token abc'), 'AUTHORIZATION_MALFORMED');
  });

  describe('remembering verified tokens', () => {
    it('keeps a verified token, and still refuses it once expired', async (t) => {
      t.mock.timers.enable({ apis: ['Date'], now: NOW_S * 1000 });
      const { verifier, privateKey } = await setup(['ES256']);
      const token = await sign(privateKey, 'u1', { exp: NOW_S + 60 });
      assert.deepEqual(await verifier.verifyToken(token), { userId: 'u1', scopes: [] });
      assert.equal(verifier.cachedTokens, 1);
      assert.deepEqual(await verifier.verifyToken(token), { userId: 'u1', scopes: [] });
      // Within the 5 s tolerance after exp: still valid, as jose would say.
      t.mock.timers.setTime((NOW_S + 64) * 1000);
      assert.deepEqual(await verifier.verifyToken(token), { userId: 'u1', scopes: [] });
      t.mock.timers.setTime((NOW_S + 65) * 1000);
      await rejectsWith(verifier.verifyToken(token), 'TOKEN_EXPIRED');
      assert.equal(verifier.cachedTokens, 0);
    });

    it('refuses a token not yet valid, and accepts it once it is', async (t) => {
      t.mock.timers.enable({ apis: ['Date'], now: NOW_S * 1000 });
      const { verifier, privateKey } = await setup(['ES256']);
      const token = await sign(privateKey, 'u1', { nbf: NOW_S + 30, exp: NOW_S + 90 });
      await rejectsWith(verifier.verifyToken(token), 'TOKEN_NOT_YET_VALID');
      assert.equal(verifier.cachedTokens, 0);
      t.mock.timers.setTime((NOW_S + 25) * 1000);
      assert.deepEqual(await verifier.verifyToken(token), { userId: 'u1', scopes: [] });
    });

    it('a cached token with another signature is verified, and refused', async () => {
      const { verifier, privateKey } = await setup(['ES256']);
      const token = await sign(privateKey, 'u1', { exp: Math.floor(Date.now() / 1000) + 60 });
      await verifier.verifyToken(token);
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
      await rejectsWith(verifier.verifyToken(`${header}.${payload}.${flipped}`), 'TOKEN_SIGNATURE_INVALID');
      // Another subject's claims under the cached token's signature.
      const other = Buffer.from(JSON.stringify({ sub: 'u2', iss: 'iss', aud: 'aud', exp: 2e9 })).toString(
        'base64url',
      );
      await rejectsWith(verifier.verifyToken(`${header}.${other}.${signature}`), 'TOKEN_SIGNATURE_INVALID');
      assert.equal(verifier.cachedTokens, 1);
    });

    it('keeps at most cacheSize tokens; 0 keeps none', async () => {
      const exp = Math.floor(Date.now() / 1000) + 60;
      const { verifier, privateKey } = await setup(['ES256'], undefined, 2);
      for (const sub of ['a', 'b', 'c']) await verifier.verifyToken(await sign(privateKey, sub, { exp }));
      assert.equal(verifier.cachedTokens, 2);
      const none = await setup(['ES256'], undefined, 0);
      await none.verifier.verifyToken(await sign(none.privateKey, 'a', { exp }));
      assert.equal(none.verifier.cachedTokens, 0);
    });
  });
});
