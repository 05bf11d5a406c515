import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { signerFromEnv } from './from-env';
import { generatePkcs11Key, Pkcs11Signer } from './pkcs11-signer';
import { startSoftHsmToken, type SoftHsmToken } from './testing';
import { verifySignature } from './verify';

// One SoftHSM2 token for the whole file: SoftHSM reads its config once per module initialization.
let token: SoftHsmToken;
before(async () => {
  token = await startSoftHsmToken();
});
after(async () => {
  await token.close();
});

/** The token's access plus a key label. */
const keyOn = (keyLabel: string) => ({
  modulePath: token.modulePath,
  tokenLabel: token.tokenLabel,
  pin: token.pin,
  keyLabel,
});

describe('Pkcs11Signer on SoftHSM2', () => {
  test('a generated Ed25519 key signs 20 messages concurrently, each verified with node:crypto', async () => {
    const generated = await generatePkcs11Key(keyOn('export-ed25519'));
    assert.equal(generated.algorithm, 'Ed25519');
    assert.match(generated.keyId, /^ed25519:[A-Za-z0-9_-]{16}$/);

    const signer = await Pkcs11Signer.open(keyOn('export-ed25519'));
    try {
      assert.deepEqual(signer.publicKey(), generated);
      assert.equal(signer.keyId, generated.keyId);
      assert.equal(signer.algorithm, 'Ed25519');
      const messages = Array.from({ length: 20 }, (_, i) =>
        Buffer.from(`manifest ${i} ${randomBytes(8).toString('hex')}`),
      );
      const signatures = await Promise.all(messages.map((m) => signer.sign(m)));
      signatures.forEach((signature, i) => {
        assert.equal(signature.length, 64);
        assert.equal(
          verifySignature(signer.publicKey(), messages[i] as Buffer, signature),
          true,
          `message ${i}`,
        );
        // Each signature is bound to its own message.
        assert.equal(verifySignature(signer.publicKey(), messages[(i + 1) % 20] as Buffer, signature), false);
      });
      // And the queue keeps working after the burst.
      const late = await signer.sign(Buffer.from('late'));
      assert.equal(verifySignature(generated, Buffer.from('late'), late), true);
    } finally {
      await signer.close();
    }
    await assert.rejects(signer.sign(Buffer.from('x')), /closed/);
  });

  test('an ES256 key (the fallback for tokens without EdDSA) signs P1363 signatures', async () => {
    const generated = await generatePkcs11Key({ ...keyOn('export-es256'), algorithm: 'ES256' });
    assert.equal(generated.algorithm, 'ES256');
    assert.match(generated.keyId, /^es256:/);
    const signer = await Pkcs11Signer.open(keyOn('export-es256'));
    try {
      assert.deepEqual(signer.publicKey(), generated);
      const data = Buffer.from('{"bundle":"es256"}');
      const signatures = await Promise.all([1, 2, 3].map(() => signer.sign(data)));
      for (const signature of signatures) {
        assert.equal(signature.length, 64);
        assert.equal(verifySignature(generated, data, signature), true);
      }
    } finally {
      await signer.close();
    }
  });

  test('two signers on one token in one process share the login; closing one keeps the other', async () => {
    const a = await Pkcs11Signer.open(keyOn('export-ed25519'));
    const b = await Pkcs11Signer.open(keyOn('export-es256'));
    try {
      await a.close();
      const signature = await b.sign(Buffer.from('still logged in'));
      assert.equal(verifySignature(b.publicKey(), Buffer.from('still logged in'), signature), true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a label already in use is refused by key generation', async () => {
    await assert.rejects(
      generatePkcs11Key(keyOn('export-ed25519')),
      /a key labelled "export-ed25519" already exists/,
    );
  });

  test('a wrong PIN is a clear error', async () => {
    await assert.rejects(
      Pkcs11Signer.open({ ...keyOn('export-ed25519'), pin: `${token.pin}-wrong` }),
      new RegExp(`wrong PIN for token "${token.tokenLabel}" \\(CKR_PIN_INCORRECT\\)`),
    );
  });

  test('an unknown key label is a clear error naming it', async () => {
    await assert.rejects(
      Pkcs11Signer.open(keyOn('no-such-key')),
      new RegExp(`no private key labelled "no-such-key" on token "${token.tokenLabel}"`),
    );
  });

  test('an unknown token label is a clear error naming it and the tokens there are', async () => {
    await assert.rejects(
      Pkcs11Signer.open({ ...keyOn('export-ed25519'), tokenLabel: 'no-such-token' }),
      new RegExp(`no token labelled "no-such-token" in .* \\(tokens: .*"${token.tokenLabel}"`),
    );
  });

  test('signerFromEnv with the pkcs11 variables, the PIN inline or from a file', async () => {
    const probe = await Pkcs11Signer.open(keyOn('export-ed25519'));
    const expected = probe.publicKey();
    await probe.close();
    const pinFile = join(token.dir, 'pin');
    writeFileSync(pinFile, `${token.pin}\n`);
    const envs = [
      { ...token.env, PKCS11_KEY_LABEL: 'export-ed25519' },
      { ...token.env, PKCS11_PIN: undefined, PKCS11_PIN_FILE: pinFile, PKCS11_KEY_LABEL: 'export-ed25519' },
    ];
    for (const env of envs) {
      const signer = await signerFromEnv(env);
      try {
        assert.ok(signer instanceof Pkcs11Signer);
        assert.deepEqual(signer.publicKey(), expected);
        const data = Buffer.from('{"from":"env"}');
        assert.equal(verifySignature(signer.publicKey(), data, await signer.sign(data)), true);
      } finally {
        await signer.close?.();
      }
    }
  });
});
