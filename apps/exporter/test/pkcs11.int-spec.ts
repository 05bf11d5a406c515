/**
 * The seed's "HSM signing": an exporter whose signer is a key on a real SoftHSM2 token (PKCS#11,
 * through pkcs11js) publishes that key at boot, and its bundles verify with it — the private key
 * never leaves the token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generatePkcs11Key } from '@fleet/signing';
import { startSoftHsmToken } from '@fleet/signing/testing';
import { ExporterFixture, readZip, runVerify } from './harness';

describe('an exporter signing on a SoftHSM2 token', () => {
  let fx: ExporterFixture;
  let token: Awaited<ReturnType<typeof startSoftHsmToken>>;
  before(async () => {
    token = await startSoftHsmToken({ label: 'fleet-exports' });
    fx = await ExporterFixture.create();
  });
  after(async () => {
    await fx?.stop();
    await token?.close();
  });

  test('the bundle is signed on the token and verifies with the published key', async () => {
    const key = await generatePkcs11Key({
      modulePath: token.modulePath,
      tokenLabel: token.tokenLabel,
      pin: token.pin,
      keyLabel: 'manifest-signing',
    });
    assert.equal(key.algorithm, 'Ed25519');
    await fx.startExporter({
      ...token.env,
      EXPORT_SIGNER: 'pkcs11',
      PKCS11_MODULE: token.modulePath,
      PKCS11_TOKEN_LABEL: token.tokenLabel,
      PKCS11_PIN: token.pin,
      PKCS11_KEY_LABEL: 'manifest-signing',
    });
    const { keys } = await fx.keysFile();
    assert.deepEqual(
      keys.map((k) => k.keyId),
      [key.keyId],
      'the token key is the one published',
    );
    const project = await fx.createProject();
    const job = await fx.createExport({ projectId: project.id, engines: ['unity', 'ue5'] });
    const done = await fx.waitForFinished(job.id);
    assert.equal(done.status, 'COMPLETED', done.error ?? '');
    const { file } = await fx.keysFile();
    for (const bundle of (done.result as { bundles: { key: string }[] }).bundles) {
      const zip = await fx.download(bundle.key);
      const verdict = runVerify(zip, file);
      assert.equal(verdict.code, 0, verdict.output);
      const manifest = JSON.parse((await readZip(zip)).at(-1)!.data.toString()) as {
        signature: { keyId: string; algorithm: string };
      };
      assert.deepEqual(manifest.signature, { ...manifest.signature, keyId: key.keyId, algorithm: 'Ed25519' });
    }
  });
});
