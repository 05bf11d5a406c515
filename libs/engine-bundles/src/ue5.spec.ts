import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEngineFiles } from './index';
import { TRICKY_NAME, sampleInput, trickyMap } from './fixtures';
import { type BundleInput } from './input';
import { parseCsv, parseUeStringArray, parseUeStructs } from './test-parsers';

const TABLES = ['Regions', 'Places', 'Routes', 'Pois', 'Npcs', 'Quests', 'Encounters', 'Dungeons'];
const STRUCT_OF: Record<string, string> = {
  Regions: 'FMapExportRegionRow',
  Places: 'FMapExportPlaceRow',
  Routes: 'FMapExportRouteRow',
  Pois: 'FMapExportPoiRow',
  Npcs: 'FMapExportNpcRow',
  Quests: 'FMapExportQuestRow',
  Encounters: 'FMapExportEncounterRow',
  Dungeons: 'FMapExportDungeonRow',
};

function ue(input: BundleInput): Map<string, string> {
  const files = buildEngineFiles(input, { engine: 'ue5', godotVersion: 4, seed: 'seed-1' });
  return new Map(files.map((f) => [f.path, f.content.toString('utf8')]));
}

type Row = Record<string, unknown>;

describe('Unreal Engine 5 export', () => {
  const cases: [string, BundleInput][] = [
    ['sample', sampleInput()],
    ['tricky names', { map: trickyMap(), assets: [] }],
  ];
  for (const [label, input] of cases) {
    it(`keeps JSON keys, CSV columns and the row structs in step (${label})`, () => {
      const files = ue(input);
      const structs = parseUeStructs(files.get('MapExport/Source/MapExport/Public/MapExportRows.h')!);
      assert.deepEqual([...structs.keys()].sort(), Object.values(STRUCT_OF).sort());
      for (const table of TABLES) {
        const fields = structs.get(STRUCT_OF[table]!)!;
        assert.ok(fields.length > 0);
        const names = fields.map((f) => f.name);
        assert.ok(!names.includes('Name'), 'Name is the row name, not a property');

        const rows = JSON.parse(files.get(`MapExport/Content/Data/${table}.json`)!) as Row[];
        assert.ok(Array.isArray(rows));
        const rowNames = rows.map((r) => String(r['Name']));
        assert.equal(
          new Set(rowNames.map((n) => n.toLowerCase())).size,
          rows.length,
          `${table}: unique Name`,
        );
        for (const name of rowNames) assert.match(name, /^[A-Za-z0-9_]+$/);
        for (const row of rows) {
          assert.deepEqual(Object.keys(row), ['Name', ...names], `${table}: JSON keys = struct fields`);
          for (const field of fields) {
            const value = row[field.name];
            if (field.type === 'FString') assert.equal(typeof value, 'string');
            else if (field.type === 'TArray<FString>') assert.ok(Array.isArray(value));
            else assert.equal(typeof value, 'number');
            if (field.type === 'int32') assert.ok(Number.isInteger(value));
          }
        }

        const csv = parseCsv(files.get(`MapExport/Content/Data/${table}.csv`)!);
        assert.deepEqual(csv[0], ['---', ...names], `${table}: CSV header = row name + struct fields`);
        assert.equal(csv.length, rows.length + 1);
        csv.slice(1).forEach((record, i) => {
          const row = rows[i]!;
          assert.equal(record[0], row['Name']);
          fields.forEach((field, j) => {
            const cell = record[j + 1]!;
            const value = row[field.name];
            if (field.type === 'TArray<FString>') assert.deepEqual(parseUeStringArray(cell), value);
            else if (field.type === 'FString') assert.equal(cell, value);
            else assert.equal(Number(cell), value);
          });
        });
      }
    });
  }

  it('round-trips names that need escaping and resolves references to row names', () => {
    const map = trickyMap();
    const files = ue({ map, assets: [] });
    const regions = JSON.parse(files.get('MapExport/Content/Data/Regions.json')!) as Row[];
    assert.equal(regions[0]!['DisplayName'], TRICKY_NAME);
    assert.equal(regions[0]!['Description'], map.regions[0]!.description);
    const csv = parseCsv(files.get('MapExport/Content/Data/Regions.csv')!);
    assert.equal(csv[1]![1], TRICKY_NAME);
    assert.equal(csv[1]![2], map.regions[0]!.description);
    const places = JSON.parse(files.get('MapExport/Content/Data/Places.json')!) as Row[];
    const regionNames = new Set(regions.map((r) => r['Name']));
    for (const place of places) assert.ok(regionNames.has(place['Region']), String(place['Region']));
    const placeNames = new Set(places.map((p) => p['Name']));
    const routes = JSON.parse(files.get('MapExport/Content/Data/Routes.json')!) as Row[];
    for (const route of routes) assert.ok(placeNames.has(route['From']) && placeNames.has(route['To']));
  });

  it('writes a loadable plugin: descriptor, module and an import README naming every row struct', () => {
    const files = ue(sampleInput());
    const plugin = JSON.parse(files.get('MapExport/MapExport.uplugin')!) as { Modules: { Name: string }[] };
    assert.deepEqual(
      plugin.Modules.map((m) => m.Name),
      ['MapExport'],
    );
    assert.match(
      files.get('MapExport/Source/MapExport/MapExport.Build.cs')!,
      /public class MapExport : ModuleRules/,
    );
    assert.match(
      files.get('MapExport/Source/MapExport/Private/MapExportModule.cpp')!,
      /IMPLEMENT_MODULE\(FDefaultModuleImpl, MapExport\)/,
    );
    const readme = files.get('MapExport/README.txt')!;
    for (const [table, struct] of Object.entries(STRUCT_OF)) {
      assert.match(readme, new RegExp(`^${table}\\.json +${struct.slice(1)}$`, 'm'));
    }
    const header = files.get('MapExport/Source/MapExport/Public/MapExportRows.h')!;
    assert.match(header, /#include "MapExportRows\.generated\.h"/);
  });
});
