import { type BundleInput, type CampaignContent } from './input';
import { UniqueNames } from './util';

/**
 * The map and the campaign as flat tables: what the Unity and Unreal exports are written from, so
 * both engines get the same columns. Nested lists (quest objectives, encounter enemies, dungeon
 * rooms/encounters/loot) are flattened to one readable string per element (`kill Wolf x3`), kept
 * as a string list: both engines' table editors show string lists natively, nested structs not.
 */

export type ColumnType = 'string' | 'int' | 'float' | 'strings';
export type Cell = string | number | string[];

export interface Column {
  /** PascalCase: an Unreal UPROPERTY name and (camelCased) a Unity field name. */
  name: string;
  type: ColumnType;
  doc: string;
}

export interface TableRow {
  /** Unique (case-insensitively) within its table, `[A-Za-z0-9_]` only: a valid Unreal row name. */
  key: string;
  /** One cell per column, in column order. */
  cells: Cell[];
}

export interface Table {
  /** Plural, PascalCase: `Regions`; the Unreal file name and (camelCased) the Unity list name. */
  name: string;
  /** Singular, PascalCase: `Region`; the row type is `F<prefix><struct>Row` / `<struct>Row`. */
  struct: string;
  doc: string;
  columns: readonly Column[];
  rows: TableRow[];
}

/**
 * A row key made of `[A-Za-z0-9_]`: Unreal's CSV import rewrites other characters in row names
 * (DataTableUtils::MakeValidName), so keys that are already valid survive an import unchanged.
 */
export function rowKey(raw: string): string {
  const key = raw
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
  return key.slice(0, 80) || 'Row';
}

/** One column and how to read it from an item. */
type ColumnOf<T> = readonly [Column, (item: T) => Cell];

const col = <T>(name: string, type: ColumnType, doc: string, read: (item: T) => Cell): ColumnOf<T> => [
  { name, type, doc },
  read,
];

/** Builds a table, giving every row a unique key from `keyOf`. */
function table<T>(
  name: string,
  struct: string,
  doc: string,
  columns: readonly ColumnOf<T>[],
  items: readonly T[],
  keyOf: (item: T) => string,
): { table: Table; keys: string[] } {
  const names = new UniqueNames(true);
  const keys = items.map((item) => names.take(rowKey(keyOf(item))));
  const rows = items.map((item, i) => ({ key: keys[i]!, cells: columns.map(([, read]) => read(item)) }));
  return { table: { name, struct, doc, columns: columns.map(([column]) => column), rows }, keys };
}

type Region = BundleInput['map']['regions'][number];
type Place = BundleInput['map']['places'][number];
type Route = BundleInput['map']['routes'][number];
type Item<K extends keyof CampaignContent> = NonNullable<CampaignContent[K]>[number];

/** Every table of a bundle, in a fixed order: Regions, Places, Routes, then the content kinds. */
export function buildTables(input: BundleInput): Table[] {
  const { map } = input;
  const campaign = input.campaign ?? {};

  const regions = table<Region>(
    'Regions',
    'Region',
    'A region of the map: a rectangle in map units (origin top left, y down).',
    [
      col('DisplayName', 'string', 'The region name as generated.', (r) => r.name),
      col('Description', 'string', 'What the region is like.', (r) => r.description),
      col('X', 'float', 'Left edge.', (r) => r.x),
      col('Y', 'float', 'Top edge.', (r) => r.y),
      col('Width', 'float', 'Width.', (r) => r.width),
      col('Height', 'float', 'Height.', (r) => r.height),
    ],
    map.regions,
    (r) => r.name,
  );
  const regionKey = firstKeyByName(
    map.regions.map((r) => r.name),
    regions.keys,
  );

  const places = table<Place>(
    'Places',
    'Place',
    'A place on the map, inside a region.',
    [
      col('DisplayName', 'string', 'The place name as generated.', (p) => p.name),
      col('Region', 'string', 'Row name of its region in the Regions table.', (p) => regionKey(p.region)),
      col('Kind', 'string', 'What kind of place (town, ruin, ...).', (p) => p.kind),
      col('X', 'float', 'Position, map units.', (p) => p.x),
      col('Y', 'float', 'Position, map units (y down).', (p) => p.y),
    ],
    map.places,
    (p) => p.name,
  );
  const placeKey = firstKeyByName(
    map.places.map((p) => p.name),
    places.keys,
  );

  const routes = table<Route>(
    'Routes',
    'Route',
    'A route between two places.',
    [
      col('From', 'string', 'Row name of the start place in the Places table.', (r) => placeKey(r.from)),
      col('To', 'string', 'Row name of the end place in the Places table.', (r) => placeKey(r.to)),
      col('Kind', 'string', 'What kind of route (road, river, ...).', (r) => r.kind),
      col('X1', 'float', 'Start, map units.', (r) => r.x1),
      col('Y1', 'float', 'Start, map units.', (r) => r.y1),
      col('X2', 'float', 'End, map units.', (r) => r.x2),
      col('Y2', 'float', 'End, map units.', (r) => r.y2),
    ],
    map.routes,
    (r) => `${placeKey(r.from)}_to_${placeKey(r.to)}`,
  );

  return [regions.table, places.table, routes.table, ...contentTables(campaign)];
}

/** The campaign's tables (always all five, empty when the campaign has none of a kind). */
function contentTables(campaign: CampaignContent): Table[] {
  const id = <T extends { id: string }>(): ColumnOf<T> =>
    col('Id', 'string', 'The pool row id.', (i) => i.id);
  return [
    table<Item<'pois'>>(
      'Pois',
      'Poi',
      'A point of interest of the campaign.',
      [
        id(),
        col('DisplayName', 'string', 'Its name.', (i) => i.name),
        col('Kind', 'string', 'What kind of point.', (i) => i.kind),
        col('Description', 'string', 'What is there.', (i) => i.description),
        col('X', 'float', 'Position, map units.', (i) => i.position.x),
        col('Y', 'float', 'Position, map units (y down).', (i) => i.position.y),
      ],
      campaign.pois ?? [],
      (i) => i.id,
    ).table,
    table<Item<'npcs'>>(
      'Npcs',
      'Npc',
      'A non-player character.',
      [
        id(),
        col('DisplayName', 'string', 'Their name.', (i) => i.name),
        col('Role', 'string', 'Their role.', (i) => i.role),
        col('Personality', 'string', 'Their personality.', (i) => i.personality),
        col('Traits', 'strings', 'Their traits.', (i) => i.traits),
        col('SpeechStyle', 'string', 'How they speak.', (i) => i.speech_style),
        col('Backstory', 'string', 'Their backstory.', (i) => i.backstory),
      ],
      campaign.npcs ?? [],
      (i) => i.id,
    ).table,
    table<Item<'quests'>>(
      'Quests',
      'Quest',
      'A quest.',
      [
        id(),
        col('Title', 'string', 'Its title.', (i) => i.title),
        col('Description', 'string', 'What it is about.', (i) => i.description),
        col('Objectives', 'strings', 'One per objective: `<type> <target> x<count>`.', (i) =>
          i.objectives.map((o) => `${o.type} ${o.target} x${o.count}`),
        ),
        col('Level', 'int', 'Its level.', (i) => i.level),
        col('XpReward', 'int', 'Experience reward.', (i) => i.xp_reward),
        col('GoldReward', 'int', 'Gold reward.', (i) => i.gold_reward),
      ],
      campaign.quests ?? [],
      (i) => i.id,
    ).table,
    table<Item<'encounters'>>(
      'Encounters',
      'Encounter',
      'A combat encounter.',
      [
        id(),
        col('DisplayName', 'string', 'Its name.', (i) => i.name),
        col('LocationType', 'string', 'Where it happens.', (i) => i.location_type),
        col('ChallengeRating', 'float', 'Its challenge rating.', (i) => i.challenge_rating),
        col('Enemies', 'strings', 'One per enemy group: `<name> x<count> (CR <rating>)`.', (i) =>
          i.enemies.map((e) => `${e.name} x${e.count} (CR ${e.challenge_rating})`),
        ),
        col('Description', 'string', 'What happens.', (i) => i.description),
      ],
      campaign.encounters ?? [],
      (i) => i.id,
    ).table,
    table<Item<'dungeons'>>(
      'Dungeons',
      'Dungeon',
      'A dungeon.',
      [
        id(),
        col('DisplayName', 'string', 'Its name.', (i) => i.name),
        col('Description', 'string', 'What it is like.', (i) => i.description),
        col('RecommendedLevel', 'int', 'The level it is made for.', (i) => i.recommended_level),
        col('Rooms', 'strings', 'One per room: `<name>: <description>`.', (i) =>
          i.rooms.map((r) => `${r.name}: ${r.description}`),
        ),
        col('Encounters', 'strings', 'One per encounter: `<room>: <description>`.', (i) =>
          i.encounters.map((e) => `${e.room}: ${e.description}`),
        ),
        col('Loot', 'strings', 'One per item: `<name> (<rarity>)`.', (i) =>
          i.loot.map((l) => `${l.name} (${l.rarity})`),
        ),
      ],
      campaign.dungeons ?? [],
      (i) => i.id,
    ).table,
  ];
}

/**
 * Resolves a name to the row key of the first row with that name (the map model's references are
 * by name); an unknown name still gets a valid key so a dangling reference stays visible.
 */
function firstKeyByName(names: readonly string[], keys: readonly string[]): (name: string) => string {
  const byName = new Map<string, string>();
  names.forEach((name, i) => {
    if (!byName.has(name)) byName.set(name, keys[i]!);
  });
  return (name) => byName.get(name) ?? rowKey(name);
}

/** `RegionRow` field style: the first letter lower-cased (`DisplayName` → `displayName`). */
export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
