/**
 * An Ed25519 key held in the process (a PKCS#8 PEM from a file or a secret): for development, tests
 * and deployments without an HSM.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  publicKeyEntryOf,
  type ManifestSigner,
  type PublicKeyEntry,
  type SignatureAlgorithm,
} from './signer';

/** Signs with a node:crypto Ed25519 private key. Ed25519 only: ES256 exists for HSMs that need it. */
export class LocalKeySigner implements ManifestSigner {
  readonly algorithm: SignatureAlgorithm = 'Ed25519';
  readonly keyId: string;
  private readonly entry: PublicKeyEntry;

  private constructor(private readonly privateKey: KeyObject) {
    this.entry = publicKeyEntryOf(createPublicKey(privateKey));
    this.keyId = this.entry.keyId;
  }

  /**
   * The signer of an unencrypted PKCS#8 PEM Ed25519 private key (`openssl genpkey -algorithm
   * ed25519`). Refuses other keys with an error naming their type; never echoes the PEM.
   */
  static fromPem(pem: string): LocalKeySigner {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: 'pem' });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `LocalKeySigner: not a readable PKCS#8 PEM private key (${reason}); expected an Ed25519 key from \`openssl genpkey -algorithm ed25519\``,
      );
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      throw new Error(
        `LocalKeySigner: expected an Ed25519 private key, got ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` (${curve})` : ''}; ` +
          'create one with `openssl genpkey -algorithm ed25519`',
      );
    }
    return new LocalKeySigner(key);
  }

  /** A signer with a fresh key that lives only as long as the process: for tests. */
  static generate(): LocalKeySigner {
    return new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);
  }

  /** The 64-byte Ed25519 signature of `data` (Ed25519 hashes internally: no digest argument). */
  async sign(data: Buffer): Promise<Buffer> {
    return sign(null, data, this.privateKey);
  }

  publicKey(): PublicKeyEntry {
    return this.entry;
  }

  /** The private key as PKCS#8 PEM, to hand a generated key to another process in tests. */
  privateKeyPem(): string {
    return this.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  }
}
