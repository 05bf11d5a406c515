import { type ExportEngine } from '@fleet/contracts';

/** Where an export's archives live: one attempt overwrites the same keys; the prefix is the job's. */
export const exportPrefix = (jobId: string) => `exports/${jobId}/`;
export const bundleKey = (jobId: string, engine: ExportEngine) => `${exportPrefix(jobId)}${engine}.zip`;

/**
 * An uploaded file's name inside a bundle: path separators, control characters and leading dots
 * replaced (a name is never a path), at most 120 characters; a second file of the same name gets
 * the first 8 characters of its upload id in front.
 */
export function assetFileNames(assets: { id: string; filename: string }[]): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const asset of assets) {
    let name = [...asset.filename.normalize('NFC')]
      .map((c) => (c.charCodeAt(0) < 0x20 || c === '\u007f' || '/\\:*?"<>|'.includes(c) ? '_' : c))
      .join('')
      .replace(/^[.\s]+/, '_')
      .slice(-120);
    if (name.length === 0) name = 'file';
    if (taken.has(name.toLowerCase())) name = `${asset.id.slice(0, 8)}-${name}`;
    taken.add(name.toLowerCase());
    names.set(asset.id, name);
  }
  return names;
}
