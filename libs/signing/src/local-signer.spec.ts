import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalKeySigner } from './local-signer';
import { keyIdOf } from './signer';
import { verifySignature } from './verify';

/** RFC 8032 §7.1 test 1: its secret key as PKCS#8, its public key and its signature of "". */
const RFC8032_PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
-----END PRIVATE KEY-----
`;
const RFC8032_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC8032_SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

const DATA = Buffer.from('{"bundle":"b-1","files":[{"path":"a.json","sha256":"00"}]}');

describe('LocalKeySigner', () => {
  test('signs the RFC 8032 test vector exactly, and publishes its public key', async () => {
    const signer = LocalKeySigner.fromPem(RFC8032_PEM);
    assert.equal((await signer.sign(Buffer.alloc(0))).toString('hex'), RFC8032_SIGNATURE);
    const entry = signer.publicKey();
    assert.equal(entry.algorithm, 'Ed25519');
    assert.equal(signer.algorithm, 'Ed25519');
    assert.equal(Buffer.from(String(entry.jwk.x), 'base64url').toString('hex'), RFC8032_PUBLIC);
    assert.deepEqual(
      { kty: entry.jwk.kty, crv: entry.jwk.crv, kid: entry.jwk.kid, alg: entry.jwk.alg, use: entry.jwk.use },
      { kty: 'OKP', crv: 'Ed25519', kid: signer.keyId, alg: 'EdDSA', use: 'sig' },
    );
    assert.equal(entry.jwk.d, undefined, 'the published JWK holds no private part');
    assert.match(entry.spkiPem, /^-----BEGIN PUBLIC KEY-----\n/);
  });

  test('a signature round-trips: 64 bytes, verified with the published key', async () => {
    const signer = LocalKeySigner.generate();
    const signature = await signer.sign(DATA);
    assert.equal(signature.length, 64);
    assert.equal(verifySignature(signer.publicKey(), DATA, signature), true);
    assert.equal(
      verifySignature({ algorithm: 'Ed25519', spkiPem: signer.publicKey().spkiPem }, DATA, signature),
      true,
    );
  });

  test('tampered data, a tampered or truncated signature, or another key does not verify', async () => {
    const signer = LocalKeySigner.generate();
    const signature = await signer.sign(DATA);
    const tamperedData = Buffer.from(DATA);
    tamperedData[5] ^= 1;
    assert.equal(verifySignature(signer.publicKey(), tamperedData, signature), false);
    const tamperedSignature = Buffer.from(signature);
    tamperedSignature[10] ^= 1;
    assert.equal(verifySignature(signer.publicKey(), DATA, tamperedSignature), false);
    assert.equal(verifySignature(signer.publicKey(), DATA, signature.subarray(0, 63)), false);
    assert.equal(verifySignature(signer.publicKey(), DATA, Buffer.alloc(0)), false);
    assert.equal(verifySignature(LocalKeySigner.generate().publicKey(), DATA, signature), false);
  });

  test('a key that is not what its algorithm says throws rather than returning false', async () => {
    const signer = LocalKeySigner.generate();
    const signature = await signer.sign(DATA);
    assert.throws(
      () => verifySignature({ algorithm: 'ES256', spkiPem: signer.publicKey().spkiPem }, DATA, signature),
      /the key is Ed25519, but algorithm says ES256/,
    );
  });

  test('ES256 signatures (P1363 r || s) verify, DER-encoded ones do not', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spkiPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const p1363 = sign('sha256', DATA, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    assert.equal(verifySignature({ algorithm: 'ES256', spkiPem }, DATA, p1363), true);
    const der = sign('sha256', DATA, { key: privateKey, dsaEncoding: 'der' });
    assert.equal(verifySignature({ algorithm: 'ES256', spkiPem }, DATA, der), false);
  });

  test('keyIdOf is stable: ed25519: and 16 characters of base64url(sha256(spki))', () => {
    const signer = LocalKeySigner.fromPem(RFC8032_PEM);
    const spki = createPublicKey(signer.publicKey().spkiPem).export({ format: 'der', type: 'spki' });
    assert.equal(keyIdOf(spki), 'ed25519:BuP9j9opu2CrWVV9');
    assert.equal(signer.keyId, 'ed25519:BuP9j9opu2CrWVV9');
    assert.equal(
      keyIdOf(spki),
      `ed25519:${createHash('sha256').update(spki).digest('base64url').slice(0, 16)}`,
    );
    assert.equal(LocalKeySigner.fromPem(RFC8032_PEM).keyId, signer.keyId);
    assert.notEqual(LocalKeySigner.generate().keyId, signer.keyId);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      format: 'der',
      type: 'spki',
    });
    assert.match(keyIdOf(ec), /^es256:[A-Za-z0-9_-]{16}$/);
  });

  test('fromPem refuses RSA and EC keys naming their type', () => {
    const pkcs8 = { format: 'pem', type: 'pkcs8' } as const;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export(pkcs8).toString();
    assert.throws(() => LocalKeySigner.fromPem(rsa), /expected an Ed25519 private key, got rsa/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export(pkcs8).toString();
    assert.throws(() => LocalKeySigner.fromPem(ec), /expected an Ed25519 private key, got ec \(prime256v1\)/);
  });

  test('fromPem refuses a public key or garbage without echoing it', () => {
    const publicPem = LocalKeySigner.generate().publicKey().spkiPem;
    assert.throws(() => LocalKeySigner.fromPem(publicPem), /not a readable PKCS#8 PEM private key/);
    assert.throws(
      () => LocalKeySigner.fromPem('secret-garbage'),
      (error: Error) => /not a readable/.test(error.message) && !error.message.includes('secret-garbage'),
    );
  });
});
