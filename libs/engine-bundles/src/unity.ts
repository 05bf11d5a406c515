import { type BundleInput } from './input';
import { camelCase, type Cell, type Column, type Table, buildTables } from './tables';
import {
  type EngineFile,
  formatNumber,
  projectTitle,
  parentFolders,
  stableGuid,
  stableInt63,
  textFile,
} from './util';

/**
 * A Unity asset folder in UnityYAML (the text serialization Unity writes with "Force Text"):
 * `Map.prefab` (a GameObject tree), `Content/MapContent.asset` (a ScriptableObject holding every
 * table), the script that defines it, and a `.meta` for every file and folder, so Unity keeps the
 * GUIDs (and references between assets) it is given instead of inventing new ones.
 *
 * The archive's top-level folder is `Assets/`: unzip it over a Unity project's root and everything
 * lands in `Assets/MapExport/`, `Assets/MapExport.meta` included (a folder's meta sits next to it).
 */

export const UNITY_ROOT = 'Assets/';
export const UNITY_FOLDER = `${UNITY_ROOT}MapExport`;
/** Where the caller puts assets (each gets a `.meta` here). */
export const UNITY_ASSET_ROOT = `${UNITY_FOLDER}/Files/`;

const SCRIPT_PATH = `${UNITY_FOLDER}/Scripts/MapContent.cs`;
const CONTENT_PATH = `${UNITY_FOLDER}/Content/MapContent.asset`;
const PREFAB_PATH = `${UNITY_FOLDER}/Map.prefab`;

/** Map units per Unity unit: the map's 1000-unit canvas becomes 10 units wide (Unity's default sprite density). */
export const UNITY_MAP_UNITS_PER_UNIT = 100;

const YAML_HEADER = ['%YAML 1.1', '%TAG !u! tag:unity3d.com,2011:'];

/**
 * A YAML scalar for a user string: plain when that is unambiguous (letters, digits, spaces,
 * `_`/`-`, not a YAML keyword or number), otherwise double-quoted with escapes, so names like
 * `A "quoted" \ name: with/slash.` read back exactly.
 */
export function yamlString(text: string): string {
  const plain =
    /^[A-Za-z_][A-Za-z0-9_ -]*$/.test(text) &&
    !/ $/.test(text) &&
    !/^(y|n|yes|no|true|false|on|off|null)$/i.test(text);
  if (plain) return text;
  const named: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  const body = text.replace(
    /[\\"\p{Cc}\u2028\u2029]/gu,
    (c) => named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `"${body}"`;
}

/** A deterministic, file-unique fileID: hashed from the seed, the file and the object's key. */
class FileIds {
  private readonly used = new Set<bigint>();

  constructor(
    private readonly seed: string,
    private readonly path: string,
  ) {}

  next(key: string): string {
    let id = stableInt63('unity-file-id', this.seed, this.path, key);
    for (let n = 1; this.used.has(id); n++)
      id = stableInt63('unity-file-id', this.seed, this.path, key, String(n));
    this.used.add(id);
    return id.toString();
  }
}

interface PrefabNode {
  name: string;
  /** Local position in Unity units (y up). */
  x: number;
  y: number;
  children: PrefabNode[];
}

/**
 * The prefab's tree: `Map` at the origin, a child per region at its centre, a grandchild per place
 * relative to its region. Map y points down, Unity's up, hence the sign flip.
 */
function prefabTree(input: BundleInput): PrefabNode {
  const { map } = input;
  const toUnity = (v: number) => v / UNITY_MAP_UNITS_PER_UNIT;
  const root: PrefabNode = { name: 'Map', x: 0, y: 0, children: [] };
  const byName = new Map<string, { node: PrefabNode; cx: number; cy: number }>();
  for (const region of map.regions) {
    const cx = region.x + region.width / 2;
    const cy = region.y + region.height / 2;
    const node: PrefabNode = { name: region.name, x: toUnity(cx), y: -toUnity(cy), children: [] };
    root.children.push(node);
    if (!byName.has(region.name)) byName.set(region.name, { node, cx, cy });
  }
  for (const place of map.places) {
    const region = byName.get(place.region);
    const parent = region?.node ?? root;
    const dx = place.x - (region?.cx ?? 0);
    const dy = place.y - (region?.cy ?? 0);
    parent.children.push({ name: place.name, x: toUnity(dx), y: -toUnity(dy), children: [] });
  }
  return root;
}

/** `Map.prefab`: a GameObject and a Transform document per node, linked by m_Father/m_Children. */
export function unityPrefab(input: BundleInput, seed: string): string {
  const ids = new FileIds(seed, PREFAB_PATH);
  const docs: string[][] = [];
  const emit = (node: PrefabNode, path: string, father: string, transformId: string): void => {
    const gameObjectId = ids.next(`GameObject:${path}`);
    const children = node.children.map((child, i) => ({
      child,
      path: `${path}/${i}`,
      transformId: ids.next(`Transform:${path}/${i}`),
    }));
    docs.push([
      `--- !u!1 &${gameObjectId}`,
      'GameObject:',
      '  m_ObjectHideFlags: 0',
      '  m_CorrespondingSourceObject: {fileID: 0}',
      '  m_PrefabInstance: {fileID: 0}',
      '  m_PrefabAsset: {fileID: 0}',
      '  serializedVersion: 6',
      '  m_Component:',
      `  - component: {fileID: ${transformId}}`,
      '  m_Layer: 0',
      `  m_Name: ${yamlString(node.name)}`,
      '  m_TagString: Untagged',
      '  m_Icon: {fileID: 0}',
      '  m_NavMeshLayer: 0',
      '  m_StaticEditorFlags: 0',
      '  m_IsActive: 1',
    ]);
    docs.push([
      `--- !u!4 &${transformId}`,
      'Transform:',
      '  m_ObjectHideFlags: 0',
      '  m_CorrespondingSourceObject: {fileID: 0}',
      '  m_PrefabInstance: {fileID: 0}',
      '  m_PrefabAsset: {fileID: 0}',
      `  m_GameObject: {fileID: ${gameObjectId}}`,
      '  serializedVersion: 2',
      '  m_LocalRotation: {x: 0, y: 0, z: 0, w: 1}',
      `  m_LocalPosition: {x: ${formatNumber(node.x)}, y: ${formatNumber(node.y)}, z: 0}`,
      '  m_LocalScale: {x: 1, y: 1, z: 1}',
      '  m_ConstrainProportionsScale: 0',
      ...(children.length
        ? ['  m_Children:', ...children.map((c) => `  - {fileID: ${c.transformId}}`)]
        : ['  m_Children: []']),
      `  m_Father: {fileID: ${father}}`,
      '  m_LocalEulerAnglesHint: {x: 0, y: 0, z: 0}',
    ]);
    for (const c of children) emit(c.child, c.path, transformId, c.transformId);
  };
  emit(prefabTree(input), 'root', '0', ids.next('Transform:root'));
  return [...YAML_HEADER, ...docs.flat()].join('\n') + '\n';
}

/** Text for a C# XML doc comment (column docs show formats like `<name> x<count>`). */
function xmlText(text: string): string {
  return text.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
}

/** C# type of a column. */
function csType(column: Column): string {
  return { string: 'string', int: 'int', float: 'float', strings: 'List<string>' }[column.type];
}

/** The row class of a table: `RegionRow`. */
export function unityRowClass(table: Table): string {
  return `${table.struct}Row`;
}

/**
 * `MapContent.cs`. Unity resolves a ScriptableObject's class from the script file, so the class
 * is named like the file; the row classes are plain [Serializable] classes in the same file.
 * Every row has `key` (its unique row name, as in the Unreal tables) and one field per column.
 */
export function unityScript(tables: readonly Table[]): string {
  const lines = [
    '// Generated by @fleet/engine-bundles. MapContent.asset refers to this script by the GUID in',
    '// MapContent.cs.meta; keep the file name, class names and field names as they are.',
    'using System;',
    'using System.Collections.Generic;',
    'using UnityEngine;',
    '',
    'namespace MapExport',
    '{',
    '    /// <summary>The exported map and campaign: one list per table (see Content/MapContent.asset).</summary>',
    '    [CreateAssetMenu(menuName = "Map Export/Map Content")]',
    '    public class MapContent : ScriptableObject',
    '    {',
    '        public string title;',
    '        public string jobId;',
    '        public string sourceFilename;',
    '        public float width;',
    '        public float height;',
    ...tables.map(
      (t) =>
        `        public List<${unityRowClass(t)}> ${camelCase(t.name)} = new List<${unityRowClass(t)}>();`,
    ),
    '    }',
  ];
  for (const table of tables) {
    lines.push(
      '',
      `    /// <summary>${xmlText(table.doc)}</summary>`,
      '    [Serializable]',
      `    public class ${unityRowClass(table)}`,
      '    {',
      '        /// <summary>Unique row name (the Unreal DataTable row name).</summary>',
      '        public string key;',
    );
    for (const column of table.columns) {
      lines.push(`        /// <summary>${xmlText(column.doc)}</summary>`);
      const init = column.type === 'strings' ? ' = new List<string>()' : '';
      lines.push(`        public ${csType(column)} ${camelCase(column.name)}${init};`);
    }
    lines.push('    }');
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** A cell as a YAML value at `indent` (string lists as block sequences, Unity's style). */
function yamlCell(key: string, cell: Cell, indent: string): string[] {
  if (Array.isArray(cell)) {
    return cell.length
      ? [`${indent}${key}:`, ...cell.map((s) => `${indent}- ${yamlString(s)}`)]
      : [`${indent}${key}: []`];
  }
  return [`${indent}${key}: ${typeof cell === 'number' ? formatNumber(cell) : yamlString(cell)}`];
}

/** `MapContent.asset`: the MonoBehaviour document of a ScriptableObject, every table as a list. */
export function unityContentAsset(input: BundleInput, tables: readonly Table[], scriptGuid: string): string {
  const lines = [
    ...YAML_HEADER,
    '--- !u!114 &11400000',
    'MonoBehaviour:',
    '  m_ObjectHideFlags: 0',
    '  m_CorrespondingSourceObject: {fileID: 0}',
    '  m_PrefabInstance: {fileID: 0}',
    '  m_PrefabAsset: {fileID: 0}',
    '  m_GameObject: {fileID: 0}',
    '  m_Enabled: 1',
    '  m_EditorHideFlags: 0',
    `  m_Script: {fileID: 11500000, guid: ${scriptGuid}, type: 3}`,
    '  m_Name: MapContent',
    '  m_EditorClassIdentifier: ',
    `  title: ${yamlString(projectTitle(input))}`,
    `  jobId: ${yamlString(input.map.jobId)}`,
    `  sourceFilename: ${yamlString(input.map.source.filename)}`,
    `  width: ${formatNumber(input.map.width)}`,
    `  height: ${formatNumber(input.map.height)}`,
  ];
  for (const table of tables) {
    const key = camelCase(table.name);
    if (table.rows.length === 0) {
      lines.push(`  ${key}: []`);
      continue;
    }
    lines.push(`  ${key}:`);
    for (const row of table.rows) {
      lines.push(`  - key: ${yamlString(row.key)}`);
      table.columns.forEach((column, i) =>
        lines.push(...yamlCell(camelCase(column.name), row.cells[i]!, '    ')),
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** The fields every importer stanza ends with. */
const IMPORTER_TAIL = ['  userData: ', '  assetBundleName: ', '  assetBundleVariant: '];

type Importer = 'folder' | 'default' | 'native' | 'mono' | 'texture' | 'prefab';

/** A `.meta` file: format version, the GUID, and the importer stanza Unity writes for the kind. */
export function unityMeta(guid: string, importer: Importer): string {
  const stanza: Record<Importer, string[]> = {
    folder: ['folderAsset: yes', 'DefaultImporter:', '  externalObjects: {}', ...IMPORTER_TAIL],
    default: ['DefaultImporter:', '  externalObjects: {}', ...IMPORTER_TAIL],
    native: [
      'NativeFormatImporter:',
      '  externalObjects: {}',
      '  mainObjectFileID: 11400000',
      ...IMPORTER_TAIL,
    ],
    mono: [
      'MonoImporter:',
      '  externalObjects: {}',
      '  serializedVersion: 2',
      '  defaultReferences: []',
      '  executionOrder: 0',
      '  icon: {instanceID: 0}',
      ...IMPORTER_TAIL,
    ],
    // A sprite at 100 pixels per unit: a map texture rendered at map size lines up with the prefab.
    texture: [
      'TextureImporter:',
      '  externalObjects: {}',
      '  serializedVersion: 12',
      '  mipmaps:',
      '    enableMipMap: 0',
      '  textureType: 8',
      '  textureShape: 1',
      '  spriteMode: 1',
      `  spritePixelsToUnits: ${UNITY_MAP_UNITS_PER_UNIT}`,
      '  alignment: 0',
      '  alphaIsTransparency: 1',
      ...IMPORTER_TAIL,
    ],
    prefab: ['PrefabImporter:', '  externalObjects: {}', ...IMPORTER_TAIL],
  };
  return [`fileFormatVersion: 2`, `guid: ${guid}`, ...stanza[importer]].join('\n') + '\n';
}

/** The importer of a generated file, by extension. */
function importerOf(path: string): Importer {
  if (path.endsWith('.cs')) return 'mono';
  if (path.endsWith('.asset')) return 'native';
  if (path.endsWith('.prefab')) return 'prefab';
  return 'default';
}

/**
 * Every Unity file of a bundle: the generated files, a `.meta` for each of them and for each
 * caller asset (TextureImporter for textures, DefaultImporter otherwise — Unity keeps the GUID if
 * it picks a more specific importer), and a folder `.meta` for every folder under `Assets/`.
 */
export function unityFiles(input: BundleInput, seed: string): EngineFile[] {
  const tables = buildTables(input);
  const scriptGuid = stableGuid(seed, SCRIPT_PATH);
  const generated = [
    textFile(PREFAB_PATH, [unityPrefab(input, seed)]),
    textFile(SCRIPT_PATH, [unityScript(tables)]),
    textFile(CONTENT_PATH, [unityContentAsset(input, tables, scriptGuid)]),
  ];
  const metaOf = (path: string, importer: Importer) =>
    textFile(`${path}.meta`, [unityMeta(stableGuid(seed, path), importer)]);
  const assetPaths = input.assets.map((a) => ({ path: `${UNITY_ASSET_ROOT}${a.path}`, kind: a.kind }));
  const folders = new Set<string>();
  for (const path of [...generated.map((f) => f.path), ...assetPaths.map((a) => a.path)]) {
    for (const folder of parentFolders(path)) if (folder !== 'Assets') folders.add(folder);
  }
  return [
    ...generated,
    ...generated.map((f) => metaOf(f.path, importerOf(f.path))),
    ...assetPaths.map((a) => metaOf(a.path, a.kind === 'texture' ? 'texture' : 'default')),
    ...[...folders].map((folder) => metaOf(folder, 'folder')),
  ];
}
