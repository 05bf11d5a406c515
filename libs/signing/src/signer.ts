/**
 * What every signer shares: the algorithms, the public key as exporters publish it, and the key id
 * derived from that public key (so a verifier can pick the key a bundle names without trusting it).
 */
import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** Ed25519 is the default; ES256 (ECDSA P-256 over SHA-256) only where an HSM lacks EdDSA. */
export type SignatureAlgorithm = 'Ed25519' | 'ES256';

/** A public key as `GET /v1/exports/keys` publishes it (`export_signing_keys`). */
export interface PublicKeyEntry {
  /** {@link keyIdOf} the key's SPKI DER. */
  keyId: string;
  algorithm: SignatureAlgorithm;
  /** The public JWK, with `kid`, `alg` and `use: 'sig'` so a JWKS consumer needs nothing else. */
  jwk: JsonWebKey;
  /** The SubjectPublicKeyInfo as PEM (`-----BEGIN PUBLIC KEY-----`). */
  spkiPem: string;
}

/** Signs manifest bytes with a key it never hands out; the verifier needs only {@link publicKey}. */
export interface ManifestSigner {
  readonly keyId: string;
  readonly algorithm: SignatureAlgorithm;
  /** Ed25519: the 64-byte raw signature; ES256: IEEE P1363 `r || s`, 64 bytes (not DER). */
  sign(data: Buffer): Promise<Buffer>;
  publicKey(): PublicKeyEntry;
  /** Releases what the signer holds (an HSM session); signing afterwards fails. */
  close?(): Promise<void>;
}

/** The JWS `alg` of each algorithm (RFC 8037 names Ed25519 signatures `EdDSA`). */
const JWS_ALG: Record<SignatureAlgorithm, string> = { Ed25519: 'EdDSA', ES256: 'ES256' };

/** The key-id prefix of each algorithm: the id says what kind of key it names. */
const KEY_ID_PREFIX: Record<SignatureAlgorithm, string> = { Ed25519: 'ed25519', ES256: 'es256' };

/**
 * The algorithm a public key is for, or an error naming what it is instead: only Ed25519 and
 * EC P-256 keys sign manifests.
 */
export function algorithmOfKey(key: KeyObject): SignatureAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'Ed25519';
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw new Error(
    `unsupported signing key type ${type ?? 'unknown'}${curve ? ` (${curve})` : ''}: expected Ed25519 or EC P-256`,
  );
}

/**
 * The key id of a public key: `<alg>:` + the first 16 characters of base64url(SHA-256(SPKI DER)),
 * e.g. `ed25519:Q2x5dW1uX3R5cGVz` — 96 bits of the hash, enough to tell keys apart, short enough
 * to print. It depends on the public key alone, so the same key gets the same id wherever it is
 * held (file or HSM), and a rotation always gets a new one.
 */
export function keyIdOf(spkiDer: Buffer): string {
  const key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  const digest = createHash('sha256').update(spkiDer).digest('base64url');
  return `${KEY_ID_PREFIX[algorithmOfKey(key)]}:${digest.slice(0, 16)}`;
}

/** The published form of a public key, from its node:crypto object. */
export function publicKeyEntryOf(key: KeyObject): PublicKeyEntry {
  const algorithm = algorithmOfKey(key);
  const spkiDer = key.export({ format: 'der', type: 'spki' });
  const keyId = keyIdOf(spkiDer);
  return {
    keyId,
    algorithm,
    jwk: { ...key.export({ format: 'jwk' }), kid: keyId, alg: JWS_ALG[algorithm], use: 'sig' },
    spkiPem: key.export({ format: 'pem', type: 'spki' }).toString(),
  };
}
