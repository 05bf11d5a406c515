import { GODOT_ASSET_ROOT, godotFiles } from './godot';
import { type BundleInput, BundleInputSchema } from './input';
import { UE_ASSET_ROOT, ueFiles } from './ue5';
import { UNITY_ASSET_ROOT, unityFiles } from './unity';
import { type EngineFile, sortFiles } from './util';

export {
  BundleAssetSchema,
  BundleInputSchema,
  CONTENT_KINDS,
  CampaignContentSchema,
  MapDocumentSchema,
  type BundleAsset,
  type BundleInput,
  type CampaignContent,
  type ContentKind,
  type MapDocument,
} from './input';
export { godotNodeName, godotString } from './godot';
export { stableGuid, type EngineFile } from './util';

/** The engines a bundle can be made for. */
export const ENGINES = ['godot', 'unity', 'ue5'] as const;
export type Engine = (typeof ENGINES)[number];

export interface BuildOptions {
  engine: Engine;
  /** Godot only: the project format (3 = Godot 3.x, 4 = Godot 4.x). Ignored by other engines. */
  godotVersion: 3 | 4;
  /** Seeds every generated identifier (Unity GUIDs and fileIDs, Godot UIDs). */
  seed: string;
}

/**
 * The folder inside the archive where the caller puts the asset binaries (an asset's `path` is
 * relative to it): `MapExport/assets/` (Godot, `res://assets/`), `Assets/MapExport/Files/`
 * (Unity), `MapExport/Content/Assets/` (Unreal plugin). Always ends with `/`.
 */
export function assetRoot(engine: Engine): string {
  return { godot: GODOT_ASSET_ROOT, unity: UNITY_ASSET_ROOT, ue5: UE_ASSET_ROOT }[engine];
}

/**
 * The text files of an engine project for a map (and campaign), sorted by path. Pure and
 * deterministic: the same input and seed give byte-identical files. The asset binaries are not
 * included (the caller adds them under {@link assetRoot}); their sidecars (Unity `.meta`) are.
 * Throws a ZodError when the input is invalid (unknown keys are stripped, not refused).
 */
export function buildEngineFiles(input: BundleInput, opts: BuildOptions): EngineFile[] {
  const valid = BundleInputSchema.parse(input);
  switch (opts.engine) {
    case 'godot':
      return sortFiles(godotFiles(valid, opts.godotVersion === 3 ? 3 : 4, opts.seed));
    case 'unity':
      return sortFiles(unityFiles(valid, opts.seed));
    case 'ue5':
      return sortFiles(ueFiles(valid));
  }
}
