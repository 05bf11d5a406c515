import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { signerFromEnv } from './from-env';
import { LocalKeySigner } from './local-signer';

const key = LocalKeySigner.generate();
const dir = mkdtempSync(join(tmpdir(), 'signing-env-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('signerFromEnv', () => {
  test('local is the default and reads the PEM from the variable, also with escaped newlines', async () => {
    const pem = key.privateKeyPem();
    assert.equal((await signerFromEnv({ EXPORT_SIGNING_KEY_PEM: pem })).keyId, key.keyId);
    const oneLine = pem.replaceAll('\n', '\\n');
    const signer = await signerFromEnv({ EXPORT_SIGNER: 'local', EXPORT_SIGNING_KEY_PEM: oneLine });
    assert.equal(signer.keyId, key.keyId);
  });

  test('local reads the PEM from EXPORT_SIGNING_KEY_FILE', async () => {
    const file = join(dir, 'key.pem');
    writeFileSync(file, key.privateKeyPem());
    assert.equal((await signerFromEnv({ EXPORT_SIGNING_KEY_FILE: file })).keyId, key.keyId);
  });

  test('local without a key names both variables: no silent random key', async () => {
    await assert.rejects(
      signerFromEnv({}),
      /EXPORT_SIGNER=local needs EXPORT_SIGNING_KEY_PEM or EXPORT_SIGNING_KEY_FILE/,
    );
    await assert.rejects(
      signerFromEnv({ EXPORT_SIGNING_KEY_PEM: '' }),
      /EXPORT_SIGNING_KEY_PEM or EXPORT_SIGNING_KEY_FILE/,
    );
  });

  test('both the PEM and the file, an unreadable file, or an unknown signer are refused', async () => {
    await assert.rejects(
      signerFromEnv({ EXPORT_SIGNING_KEY_PEM: key.privateKeyPem(), EXPORT_SIGNING_KEY_FILE: '/x' }),
      /set only one of EXPORT_SIGNING_KEY_PEM and EXPORT_SIGNING_KEY_FILE/,
    );
    await assert.rejects(
      signerFromEnv({ EXPORT_SIGNING_KEY_FILE: join(dir, 'missing.pem') }),
      /EXPORT_SIGNING_KEY_FILE=.*missing\.pem: cannot read it/,
    );
    await assert.rejects(
      signerFromEnv({ EXPORT_SIGNER: 'vault' }),
      /EXPORT_SIGNER must be "local" or "pkcs11", got "vault"/,
    );
  });

  test('pkcs11 names the first missing variable', async () => {
    const full = {
      EXPORT_SIGNER: 'pkcs11',
      PKCS11_MODULE: '/nonexistent/libpkcs11.so',
      PKCS11_TOKEN_LABEL: 'fleet',
      PKCS11_PIN: '1234',
      PKCS11_KEY_LABEL: 'export',
    };
    for (const name of ['PKCS11_MODULE', 'PKCS11_TOKEN_LABEL', 'PKCS11_KEY_LABEL'] as const) {
      await assert.rejects(
        signerFromEnv({ ...full, [name]: undefined }),
        new RegExp(`EXPORT_SIGNER=pkcs11 needs ${name}`),
      );
    }
    await assert.rejects(
      signerFromEnv({ ...full, PKCS11_PIN: undefined }),
      /EXPORT_SIGNER=pkcs11 needs PKCS11_PIN or PKCS11_PIN_FILE/,
    );
    await assert.rejects(
      signerFromEnv({ ...full, PKCS11_PIN_FILE: join(dir, 'pin') }),
      /set only one of PKCS11_PIN and PKCS11_PIN_FILE/,
    );
    // Everything given: the module itself is what fails, named.
    await assert.rejects(signerFromEnv(full), /cannot load module \/nonexistent\/libpkcs11\.so/);
  });
});
