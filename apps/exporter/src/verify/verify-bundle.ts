import { createHash } from 'node:crypto';
import { type Readable } from 'node:stream';
import { type PublicKeyEntry, verifySignature } from '@fleet/signing';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { type Manifest, MANIFEST_PATH, manifestSchema, signedBytes } from '../bundle/manifest';

/** The first thing found wrong with a bundle: the file (or `manifest.json`) and why. */
export interface BundleMismatch {
  path: string;
  reason: string;
}

export type BundleVerdict =
  | { ok: true; manifest: Manifest; keyId: string; files: number }
  | { ok: false; mismatch: BundleMismatch; manifest?: Manifest };

const openZip = (path: string) =>
  new Promise<ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false, strictFileNames: true }, (error, zip) =>
      error ? reject(error) : resolve(zip),
    ),
  );

const openEntry = (zip: ZipFile, entry: Entry) =>
  new Promise<Readable>((resolve, reject) =>
    zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream))),
  );

/** Every entry of the zip, in archive order (the central directory's). */
async function entriesOf(zip: ZipFile): Promise<Entry[]> {
  const entries: Entry[] = [];
  return new Promise((resolve, reject) => {
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', reject);
    zip.readEntry();
  });
}

async function digestOf(zip: ZipFile, entry: Entry): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await openEntry(zip, entry)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

async function readManifest(zip: ZipFile, entry: Entry): Promise<Manifest | BundleMismatch> {
  if (entry.uncompressedSize > 64 * 1024 * 1024) {
    return { path: MANIFEST_PATH, reason: 'is over 64 MiB' };
  }
  const parts: Buffer[] = [];
  for await (const chunk of await openEntry(zip, entry)) parts.push(chunk as Buffer);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    return { path: MANIFEST_PATH, reason: 'is not JSON' };
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      path: MANIFEST_PATH,
      reason: `is not a bundle manifest: ${issue.path.join('.')}: ${issue.message}`,
    };
  }
  return parsed.data;
}

/**
 * Checks an export bundle: its manifest's signature (against `keys`, by key id), then every entry
 * against the manifest — size and SHA-256 of each listed file, no entry the manifest does not list,
 * no listed file missing. Stops at the first mismatch and names it. Never trusts the archive's own
 * sizes: every entry is read and hashed.
 */
export async function verifyBundle(zipPath: string, keys: PublicKeyEntry[]): Promise<BundleVerdict> {
  const zip = await openZip(zipPath);
  try {
    const entries = await entriesOf(zip);
    const seen = new Set<string>();
    for (const entry of entries) {
      if (seen.has(entry.fileName)) {
        return { ok: false, mismatch: { path: entry.fileName, reason: 'appears twice in the archive' } };
      }
      seen.add(entry.fileName);
    }
    const manifestEntry = entries.find((e) => e.fileName === MANIFEST_PATH);
    if (!manifestEntry) return { ok: false, mismatch: { path: MANIFEST_PATH, reason: 'is missing' } };
    const manifest = await readManifest(zip, manifestEntry);
    if ('reason' in manifest) return { ok: false, mismatch: manifest };

    const { keyId, algorithm, value } = manifest.signature;
    const key = keys.find((k) => k.keyId === keyId);
    if (!key) {
      return {
        ok: false,
        manifest,
        mismatch: {
          path: MANIFEST_PATH,
          reason: `is signed with key ${keyId}, which is not among the published keys`,
        },
      };
    }
    if (
      key.algorithm !== algorithm ||
      !verifySignature(key, signedBytes(manifest), Buffer.from(value, 'base64url'))
    ) {
      return {
        ok: false,
        manifest,
        mismatch: {
          path: MANIFEST_PATH,
          reason: `signature does not verify with key ${keyId}: the manifest was changed`,
        },
      };
    }

    const listed = new Map(manifest.files.map((f) => [f.path, f]));
    for (const entry of entries) {
      if (entry.fileName === MANIFEST_PATH) continue;
      const file = listed.get(entry.fileName);
      if (!file) {
        return {
          ok: false,
          manifest,
          mismatch: { path: entry.fileName, reason: 'is not listed in the manifest' },
        };
      }
      listed.delete(entry.fileName);
      let digest: { size: number; sha256: string };
      try {
        digest = await digestOf(zip, entry);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return {
          ok: false,
          manifest,
          mismatch: { path: entry.fileName, reason: `cannot be read: ${reason}` },
        };
      }
      if (digest.size !== file.size) {
        return {
          ok: false,
          manifest,
          mismatch: {
            path: entry.fileName,
            reason: `is ${digest.size} bytes, the manifest says ${file.size}`,
          },
        };
      }
      if (digest.sha256 !== file.sha256) {
        return {
          ok: false,
          manifest,
          mismatch: {
            path: entry.fileName,
            reason: `SHA-256 is ${digest.sha256}, the manifest says ${file.sha256}`,
          },
        };
      }
    }
    const [missing] = listed.keys();
    if (missing !== undefined) {
      return {
        ok: false,
        manifest,
        mismatch: { path: missing, reason: 'is listed in the manifest but not in the archive' },
      };
    }
    return { ok: true, manifest, keyId, files: manifest.files.length };
  } finally {
    zip.close();
  }
}
