import { z } from 'zod';

/**
 * What a bundle is made from. Every object schema strips unknown keys (zod's default) rather than
 * passing them through: the output is a pure function of the fields documented here, so a new
 * field upstream can never change a bundle's bytes by accident. Strings and arrays are bounded so
 * an oversized document is refused by validation instead of turned into a huge archive.
 */

/** Map coordinates are SVG user units; bounded so every number prints without an exponent. */
const coordinate = z.number().min(-1_000_000).max(1_000_000);
const name = z.string().min(1).max(200);
const shortText = z.string().max(200);
const longText = z.string().max(4000);

/** The generation worker's `map.json` (apps/generation/src/map/render.ts, `MapDocument`). */
export const MapDocumentSchema = z.object({
  version: z.literal(1),
  jobId: z.string().min(1).max(200),
  source: z.object({ filename: z.string().max(500), sections: z.number().int().min(0).max(1_000_000) }),
  width: z.number().positive().max(1_000_000),
  height: z.number().positive().max(1_000_000),
  regions: z
    .array(
      z.object({
        name,
        description: longText,
        x: coordinate,
        y: coordinate,
        width: z.number().min(0).max(1_000_000),
        height: z.number().min(0).max(1_000_000),
      }),
    )
    .max(500),
  places: z.array(z.object({ name, region: name, kind: shortText, x: coordinate, y: coordinate })).max(5000),
  routes: z
    .array(
      z.object({
        from: name,
        to: name,
        kind: shortText,
        x1: coordinate,
        y1: coordinate,
        x2: coordinate,
        y2: coordinate,
      }),
    )
    .max(10_000),
});
export type MapDocument = z.infer<typeof MapDocumentSchema>;

const id = z.string().min(1).max(200);
const items = <T extends z.ZodType>(item: T) => z.array(item).max(5000);
const count = z.number().int().min(0).max(1_000_000);
const rating = z.number().min(0).max(1000);

/**
 * Rows of the pools tables (libs/pools item schemas plus each row's `id`). Deliberately looser than
 * the pools' own schemas (no enums, no minimum counts): a bundle exports what a campaign holds,
 * it does not re-judge it.
 */
export const CampaignContentSchema = z.object({
  pois: items(
    z.object({
      id,
      name,
      kind: shortText,
      description: longText,
      position: z.object({ x: coordinate, y: coordinate }),
    }),
  ).optional(),
  npcs: items(
    z.object({
      id,
      name,
      role: shortText,
      personality: longText,
      traits: z.array(shortText).max(50),
      speech_style: longText,
      backstory: longText,
    }),
  ).optional(),
  quests: items(
    z.object({
      id,
      title: name,
      description: longText,
      objectives: z.array(z.object({ type: shortText, target: shortText, count })).max(50),
      level: count,
      xp_reward: count,
      gold_reward: count,
    }),
  ).optional(),
  encounters: items(
    z.object({
      id,
      name,
      location_type: shortText,
      challenge_rating: rating,
      enemies: z.array(z.object({ name: shortText, count, challenge_rating: rating })).max(50),
      description: longText,
    }),
  ).optional(),
  dungeons: items(
    z.object({
      id,
      name,
      description: longText,
      recommended_level: count,
      rooms: z.array(z.object({ name: shortText, description: longText })).max(100),
      encounters: z.array(z.object({ room: shortText, description: longText })).max(100),
      loot: z.array(z.object({ name: shortText, rarity: shortText })).max(100),
    }),
  ).optional(),
});
export type CampaignContent = z.infer<typeof CampaignContentSchema>;

/** The content kinds, in the order every engine writes them. */
export const CONTENT_KINDS = ['pois', 'npcs', 'quests', 'encounters', 'dungeons'] as const;
export type ContentKind = (typeof CONTENT_KINDS)[number];

/**
 * Whether an asset path is a plain relative path that stays inside the asset root: no absolute
 * path, no `..`/`.` segment, no backslash or control character or quote (it is written inside
 * quoted strings of several formats), and no `.meta` suffix (that name belongs to Unity sidecars).
 */
export function isSafeAssetPath(path: string): boolean {
  if (path.startsWith('/') || path.endsWith('/') || /[\\"\p{Cc}]/u.test(path)) return false;
  if (/\.meta$/i.test(path)) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

export const BundleAssetSchema = z.object({
  path: z.string().min(1).max(300).refine(isSafeAssetPath, 'unsafe asset path'),
  kind: z.enum(['texture', 'file']),
  size: z.number().int().min(0),
});
export type BundleAsset = z.infer<typeof BundleAssetSchema>;

export const BundleInputSchema = z.object({
  map: MapDocumentSchema,
  campaign: CampaignContentSchema.optional(),
  title: z.string().min(1).max(120).optional(),
  assets: z
    .array(BundleAssetSchema)
    .max(1000)
    .superRefine((assets, ctx) => {
      for (const problem of assetPathConflicts(assets.map((a) => a.path))) {
        ctx.addIssue({ code: 'custom', message: problem });
      }
    }),
});
export type BundleInput = z.infer<typeof BundleInputSchema>;

/**
 * Asset paths that would clobber each other once unzipped: the same path ignoring case (macOS and
 * Windows file systems fold case) or a file whose path is another asset's folder.
 */
export function assetPathConflicts(paths: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const folders = new Set<string>();
  for (const path of paths) {
    const folded = path.toLowerCase();
    if (seen.has(folded)) problems.push(`duplicate asset path: ${path}`);
    seen.add(folded);
    const segments = folded.split('/');
    for (let i = 1; i < segments.length; i++) folders.add(segments.slice(0, i).join('/'));
  }
  for (const path of paths) {
    if (folders.has(path.toLowerCase())) problems.push(`asset path is also a folder: ${path}`);
  }
  return problems;
}
