import { CONTENT_KINDS, type BundleInput } from './input';
import { type EngineFile, UniqueNames, formatNumber, godotUid, projectTitle, textFile } from './util';

/**
 * Godot projects (3 and 4) in Godot's text formats: `project.godot` (ConfigFile), the map as a text
 * scene (`.tscn`) and the campaign as text resources (`.tres`). Values are written in the syntax of
 * Godot's VariantParser/VariantWriter for the chosen version (`Vector2( 1, 2 )` in 3,
 * `Vector2(1, 2)` in 4; `PoolVector2Array` in 3, `PackedVector2Array` in 4).
 */

export type GodotVersion = 3 | 4;

/** The archive's top-level folder for Godot; it is the project folder (holds `project.godot`). */
export const GODOT_ROOT = 'MapExport/';
/** Where the caller puts assets: `res://assets/…` inside the project. */
export const GODOT_ASSET_ROOT = `${GODOT_ROOT}assets/`;

/** Text written verbatim: a constructor such as `Vector2(1, 2)` or `ExtResource("1")`. */
export class GodotRaw {
  constructor(readonly text: string) {}
}

export type GodotValue =
  | string
  | number
  | boolean
  | null
  | GodotRaw
  | readonly GodotValue[]
  | { readonly [key: string]: GodotValue };

/**
 * A Godot string literal. Backslash and quote are escaped, and so are newlines and other control
 * characters (`\n`, `\t`, `\uXXXX`): VariantParser reads all of these in Godot 3 and 4, and a
 * one-line literal keeps the line-based section syntax unambiguous for any reader. U+2028/U+2029
 * are escaped too: Godot 3.2's parser garbles them when written raw (seen in the integration test).
 */
export function godotString(text: string): string {
  const named: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  const body = text.replace(
    /[\\"\p{Cc}\u2028\u2029]/gu,
    (c) => named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `"${body}"`;
}

/** A constructor call in the version's spacing: `Name( a, b )` in Godot 3, `Name(a, b)` in 4. */
export function godotCall(version: GodotVersion, name: string, args: readonly string[]): GodotRaw {
  if (args.length === 0) return new GodotRaw(`${name}()`);
  return new GodotRaw(version === 3 ? `${name}( ${args.join(', ')} )` : `${name}(${args.join(', ')})`);
}

/** A value in VariantWriter syntax; dictionaries one key per line, as Godot itself writes them. */
export function godotValue(value: GodotValue, version: GodotVersion): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return godotString(value);
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return String(value);
  if (value instanceof GodotRaw) return value.text;
  if (isGodotArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((item) => godotValue(item, version)).join(', ');
    return version === 3 ? `[ ${items} ]` : `[${items}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${godotString(k)}: ${godotValue(v, version)}`).join(',\n')}\n}`;
}

function isGodotArray(value: GodotValue): value is readonly GodotValue[] {
  return Array.isArray(value);
}

/** Plain JSON-like data (zod output) as a Godot value; anything else becomes `null`. */
export function toGodotValue(value: unknown): GodotValue {
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  if (Array.isArray(value)) return value.map(toGodotValue);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toGodotValue(v)]));
  }
  return null;
}

/**
 * A valid Godot node name: Godot refuses `.` `:` `@` `/` `"` `%` in names (and renames the node
 * on load); backslash and control characters are replaced too so the name reads the same in a
 * NodePath and in a file. The original name is kept in the node's metadata.
 */
export function godotNodeName(raw: string, fallback = 'Node'): string {
  const name = raw.replace(/[.:@/"%\\\p{Cc}]/gu, '_').trim();
  return name || fallback;
}

interface SceneNode {
  name: string;
  type: string;
  /** NodePath of the parent relative to the root (`.` for the root's children); none for the root. */
  parent?: string;
  props: [string, GodotValue][];
  meta: [string, GodotValue][];
}

/** Section and properties of one node; metadata as `metadata/k` (4) or one `__meta__` dict (3). */
function renderNode(node: SceneNode, version: GodotVersion): string[] {
  const parent = node.parent === undefined ? '' : ` parent=${godotString(node.parent)}`;
  const lines = [`[node name=${godotString(node.name)} type=${godotString(node.type)}${parent}]`];
  for (const [key, value] of node.props) lines.push(`${key} = ${godotValue(value, version)}`);
  lines.push(...renderMeta(node.meta, version));
  return lines;
}

function renderMeta(meta: readonly [string, GodotValue][], version: GodotVersion): string[] {
  if (meta.length === 0) return [];
  if (version === 4) return meta.map(([key, value]) => `metadata/${key} = ${godotValue(value, version)}`);
  return [`__meta__ = ${godotValue(Object.fromEntries(meta), version)}`];
}

/** The label a route node is named after (and what `original_name` holds for it). */
export function routeLabel(route: { from: string; to: string }): string {
  return `${route.from} - ${route.to}`;
}

/** The route colour of the SVG map (#7a5c3e). */
const ROUTE_COLOR = ['0.478', '0.361', '0.243', '1'];

/**
 * The map scene: root `Map` (Node2D); a Node2D per region at its centre, holding a marker per
 * place (Marker2D in 4, Position2D in 3) positioned relative to it so its global position is the
 * map position; a Line2D per route under the root. Names are unique among siblings; every node
 * carries `original_name`, and the root a `names` dictionary from node path to original name.
 * Godot 4 only: with a texture asset, a `MapTexture` Sprite2D drawn under everything (Godot 3's
 * headless build cannot import textures, so its scene references nothing outside itself).
 */
export function godotScene(input: BundleInput, version: GodotVersion, seed: string): string {
  const { map } = input;
  const texture = version === 4 ? input.assets.find((a) => a.kind === 'texture') : undefined;
  const rootNames = new UniqueNames();
  const names: Record<string, string> = {};
  const nodes: SceneNode[] = [];

  if (texture) {
    nodes.push({
      name: rootNames.take('MapTexture'),
      type: 'Sprite2D',
      parent: '.',
      props: [
        ['z_index', -1],
        ['texture', new GodotRaw('ExtResource("1_texture")')],
        ['centered', false],
      ],
      meta: [['asset_path', texture.path]],
    });
  }

  const regionNodes = new Map<
    string,
    { index: number; path: string; cx: number; cy: number; names: UniqueNames }
  >();
  const regionSections: SceneNode[][] = map.regions.map((region, index) => {
    const name = rootNames.take(godotNodeName(region.name, 'Region'));
    const cx = region.x + region.width / 2;
    const cy = region.y + region.height / 2;
    if (!regionNodes.has(region.name)) {
      regionNodes.set(region.name, { index, path: name, cx, cy, names: new UniqueNames() });
    }
    names[name] = region.name;
    return [
      {
        name,
        type: 'Node2D',
        parent: '.',
        props: [['position', vector2(version, cx, cy)]],
        meta: [
          ['original_name', region.name],
          ['description', region.description],
          ['size', vector2(version, region.width, region.height)],
        ],
      },
    ];
  });

  for (const place of map.places) {
    const region = regionNodes.get(place.region);
    const scope = region ? region.names : rootNames;
    const name = scope.take(godotNodeName(place.name, 'Place'));
    const node: SceneNode = {
      name,
      type: version === 4 ? 'Marker2D' : 'Position2D',
      parent: region ? region.path : '.',
      props: [['position', vector2(version, place.x - (region?.cx ?? 0), place.y - (region?.cy ?? 0))]],
      meta: [
        ['original_name', place.name],
        ['kind', place.kind],
        ['region', place.region],
      ],
    };
    names[region ? `${region.path}/${name}` : name] = place.name;
    // Places follow their region's section: Godot needs a parent's section before its children.
    if (region) regionSections[region.index]!.push(node);
    else nodes.push(node);
  }
  nodes.push(...regionSections.flat());

  for (const route of map.routes) {
    const label = routeLabel(route);
    const name = rootNames.take(godotNodeName(label, 'Route'));
    names[name] = label;
    nodes.push({
      name,
      type: 'Line2D',
      parent: '.',
      props: [
        [
          'points',
          godotCall(
            version,
            version === 4 ? 'PackedVector2Array' : 'PoolVector2Array',
            [route.x1, route.y1, route.x2, route.y2].map(formatNumber),
          ),
        ],
        ['width', 2],
        ['default_color', godotCall(version, 'Color', ROUTE_COLOR)],
      ],
      meta: [
        ['original_name', label],
        ['from', route.from],
        ['to', route.to],
        ['kind', route.kind],
      ],
    });
  }

  const root: SceneNode = {
    name: 'Map',
    type: 'Node2D',
    props: [],
    meta: [
      ['original_name', 'Map'],
      ['title', projectTitle(input)],
      ['job_id', map.jobId],
      ['source_filename', map.source.filename],
      ['map_size', vector2(version, map.width, map.height)],
      ['names', names],
    ],
  };

  const extResources = texture
    ? [`[ext_resource type="Texture2D" path=${godotString(`res://assets/${texture.path}`)} id="1_texture"]`]
    : [];
  const header =
    version === 4
      ? `[gd_scene load_steps=${1 + extResources.length} format=3 uid="${godotUid(seed, 'godot-scene', 'res://scenes/map.tscn')}"]`
      : `[gd_scene load_steps=1 format=2]`;
  const sections = [
    [header],
    ...(extResources.length ? [extResources] : []),
    ...[root, ...nodes].map((n) => renderNode(n, version)),
  ];
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

function vector2(version: GodotVersion, x: number, y: number): GodotRaw {
  return godotCall(version, 'Vector2', [formatNumber(x), formatNumber(y)]);
}

/** `project.godot`: ConfigFile syntax; config_version 4 is Godot 3.x, 5 is Godot 4.x. */
export function godotProject(input: BundleInput, version: GodotVersion): string {
  const lines = [
    '; Engine configuration file.',
    '; Generated by @fleet/engine-bundles: open this folder as a Godot project.',
    '',
    `config_version=${version === 4 ? 5 : 4}`,
    '',
    '[application]',
    '',
    `config/name=${godotString(projectTitle(input))}`,
    `config/description=${godotString(`Map generated from ${input.map.source.filename}`)}`,
    'run/main_scene="res://scenes/map.tscn"',
  ];
  if (version === 4) lines.push('config/features=PackedStringArray("4.2")');
  return `${lines.join('\n')}\n`;
}

/**
 * One resource per content kind, `content/<kind>.tres`: a plain Resource whose metadata `kind`
 * names the kind and `items` holds the rows as dictionaries (field names as in the pools tables).
 * Read in GDScript with `load("res://content/npcs.tres").get_meta("items")`.
 */
export function godotContent(input: BundleInput, version: GodotVersion, seed: string): EngineFile[] {
  return CONTENT_KINDS.map((kind) => {
    const path = `content/${kind}.tres`;
    const header =
      version === 4
        ? `[gd_resource type="Resource" format=3 uid="${godotUid(seed, 'godot-resource', `res://${path}`)}"]`
        : '[gd_resource type="Resource" format=2]';
    const items = toGodotValue(input.campaign?.[kind] ?? []);
    const meta: [string, GodotValue][] = [
      ['kind', kind],
      ['items', items],
    ];
    return textFile(`${GODOT_ROOT}${path}`, [
      header,
      '',
      '[resource]',
      `resource_name = ${godotString(kind)}`,
      ...renderMeta(meta, version),
    ]);
  });
}

/** Every Godot file of a bundle (assets excluded: the caller adds them under `assets/`). */
export function godotFiles(input: BundleInput, version: GodotVersion, seed: string): EngineFile[] {
  return [
    textFile(`${GODOT_ROOT}project.godot`, [godotProject(input, version)]),
    textFile(`${GODOT_ROOT}scenes/map.tscn`, [godotScene(input, version, seed)]),
    ...godotContent(input, version, seed),
  ];
}
