/**
 * Checking a manifest signature with node:crypto alone: what a verifier does with a published key,
 * with no access to the signer or its HSM.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { algorithmOfKey, type PublicKeyEntry, type SignatureAlgorithm } from './signer';

/** Both algorithms sign with 64 bytes: Ed25519's R || S, ES256's P1363 r || s. */
const SIGNATURE_BYTES = 64;

/**
 * Whether `signature` is `key`'s signature of `data`. A wrong, truncated or malformed signature is
 * `false`, never an exception, so callers can treat any untrusted input alike. A key that is not
 * what its `algorithm` says throws: that is a configuration error, not a bad signature.
 */
export function verifySignature(
  key: PublicKeyEntry | { algorithm: SignatureAlgorithm; spkiPem: string },
  data: Buffer,
  signature: Buffer,
): boolean {
  const publicKey = createPublicKey({ key: key.spkiPem, format: 'pem' });
  const actual = algorithmOfKey(publicKey);
  if (actual !== key.algorithm) {
    throw new Error(`verifySignature: the key is ${actual}, but algorithm says ${key.algorithm}`);
  }
  if (signature.length !== SIGNATURE_BYTES) return false;
  try {
    return verifyWith(publicKey, actual, data, signature);
  } catch {
    return false;
  }
}

/** ES256 signatures are P1363 (`r || s`), as JWS and PKCS#11 CKM_ECDSA write them, not DER. */
function verifyWith(key: KeyObject, algorithm: SignatureAlgorithm, data: Buffer, signature: Buffer): boolean {
  if (algorithm === 'Ed25519') return verify(null, data, key, signature);
  return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
}
