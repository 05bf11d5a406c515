import { z } from 'zod';
import { EXPORT_ENGINES, EXPORT_QUALITIES } from '@fleet/contracts';
import { canonicalJson, type ManifestSigner } from '@fleet/signing';

/** Where the manifest lives in every archive: its root, the last entry. */
export const MANIFEST_PATH = 'manifest.json';
export const MANIFEST_FORMAT = 'fleet-export-manifest/1';

/** Kept equal to the root package.json's version by a unit test. */
export const GENERATOR = { name: 'fleet-exporter', version: '0.1.0' } as const;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a hex SHA-256');

/** One archived file, as the manifest records it. */
export const manifestFileSchema = z
  .object({ path: z.string().min(1), size: z.number().int().min(0), sha256: sha256Hex })
  .strict();
export type ManifestFile = z.infer<typeof manifestFileSchema>;

/**
 * What was asked, without what differs between two identical requests (the export id, the callback
 * URL, timestamps): the same project, options and seed give the same manifest, hence the same bytes.
 */
export const manifestRequestSchema = z
  .object({
    projectId: z.string().uuid(),
    engine: z.enum(EXPORT_ENGINES),
    engines: z.array(z.enum(EXPORT_ENGINES)),
    quality: z.enum(EXPORT_QUALITIES),
    includeAssets: z.boolean(),
    seed: z.string(),
    godotVersion: z.union([z.literal(3), z.literal(4)]),
    textureSize: z.object({ width: z.number().int(), height: z.number().int() }).strict(),
    manifest: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type ManifestRequest = z.infer<typeof manifestRequestSchema>;

export const manifestSignatureSchema = z
  .object({
    algorithm: z.enum(['Ed25519', 'ES256']),
    keyId: z.string().min(1),
    /** base64url of the raw signature over {@link signedBytes}. */
    value: z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected base64url'),
  })
  .strict();

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    generator: z.object({ name: z.string(), version: z.string() }).strict(),
    request: manifestRequestSchema,
    /** Every other entry of the archive, sorted by path. */
    files: z.array(manifestFileSchema),
    signature: manifestSignatureSchema,
  })
  .strict();
export type Manifest = z.infer<typeof manifestSchema>;
export type UnsignedManifest = Omit<Manifest, 'signature'>;

/** The bytes a signature covers: the manifest without its signature, as RFC 8785 canonical JSON. */
export function signedBytes(manifest: UnsignedManifest | Manifest): Buffer {
  const { signature: _ignored, ...unsigned } = manifest as Manifest;
  return Buffer.from(canonicalJson(unsigned), 'utf8');
}

/** The manifest, signed: written pretty-printed (the signature does not depend on the layout). */
export async function signManifest(unsigned: UnsignedManifest, signer: ManifestSigner): Promise<Manifest> {
  const signature = await signer.sign(signedBytes(unsigned));
  return {
    ...unsigned,
    signature: { algorithm: signer.algorithm, keyId: signer.keyId, value: signature.toString('base64url') },
  };
}

export const manifestBytes = (manifest: Manifest): Buffer =>
  Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
