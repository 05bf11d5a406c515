/**
 * `@fleet/signing`: Ed25519 (or ES256) signatures over export-bundle manifests, from a local key
 * or a PKCS#11 token, and their verification with node:crypto alone.
 */
export { canonicalJson } from './canonical';
export { signerFromEnv } from './from-env';
export { LocalKeySigner } from './local-signer';
export { generatePkcs11Key, Pkcs11Signer, type Pkcs11KeyOptions } from './pkcs11-signer';
export { keyIdOf, type ManifestSigner, type PublicKeyEntry, type SignatureAlgorithm } from './signer';
export { verifySignature } from './verify';
