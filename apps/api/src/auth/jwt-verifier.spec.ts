import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { AuthError } from './auth.errors';
import { JwtVerifier } from './jwt-verifier';

const options = { issuer: 'iss', audience: 'aud', clockToleranceS: 5 };

async function setup(algorithms: Array<'ES256' | 'HS256'>, secret?: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const verifier = new JwtVerifier({
    ...options,
    algorithms,
    keys: { jwks: { keys: [{ ...jwk, alg: 'ES256' }] }, secret },
  });
  return { verifier, privateKey };
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
    assert.deepEqual(await verifier.verifyAuthorization(`Bearer ${token}`), { userId: 'u1' });
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
    assert.deepEqual(await withHs.verifier.verifyToken(hs), { userId: 'u2' });
    const without = await setup(['ES256']);
    await rejectsWith(without.verifier.verifyToken(hs), 'TOKEN_ALGORITHM_NOT_ALLOWED');
  });

  it('tells a missing header from a malformed one', async () => {
    const { verifier } = await setup(['ES256']);
    await rejectsWith(verifier.verifyAuthorization(undefined), 'TOKEN_MISSING');
    await rejectsWith(verifier.verifyAuthorization('Token abc'), 'AUTHORIZATION_MALFORMED');
  });
});
