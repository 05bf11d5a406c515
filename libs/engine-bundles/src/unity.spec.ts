import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assetRoot, buildEngineFiles, stableGuid } from './index';
import { TRICKY_NAME, sampleInput, trickyMap } from './fixtures';
import { type BundleInput } from './input';
import { buildTables, camelCase } from './tables';
import {
  type UnityDocument,
  type YamlValue,
  parseCsClasses,
  parseUnityMeta,
  parseUnityYaml,
} from './test-parsers';
import { parentFolders } from './util';

function unity(input: BundleInput, seed = 'seed-1'): Map<string, string> {
  const files = buildEngineFiles(input, { engine: 'unity', godotVersion: 4, seed });
  return new Map(files.map((f) => [f.path, f.content.toString('utf8')]));
}

const ref = (value: YamlValue | undefined): string => {
  assert.ok(value && typeof value === 'object' && !Array.isArray(value), 'a {fileID: …} reference');
  return String(value['fileID']);
};

function checkDocuments(text: string): UnityDocument[] {
  const docs = parseUnityYaml(text);
  assert.ok(docs.length > 0);
  const ids = docs.map((d) => d.fileId);
  assert.equal(new Set(ids).size, ids.length, 'fileIDs are unique within the file');
  for (const doc of docs) assert.notEqual(doc.fileId, '0');
  return docs;
}

describe('Unity export', () => {
  it('gives every file and every folder under Assets/ a .meta with a unique GUID', () => {
    const files = unity(sampleInput());
    const assets = sampleInput().assets.map((a) => `${assetRoot('unity')}${a.path}`);
    const content = [...files.keys()].filter((p) => !p.endsWith('.meta'));
    assert.ok(content.every((p) => p.startsWith('Assets/MapExport/')));
    const needMeta = new Set([...content, ...assets]);
    for (const path of [...content, ...assets]) {
      for (const folder of parentFolders(path)) if (folder !== 'Assets') needMeta.add(folder);
    }
    const metas = [...files.keys()].filter((p) => p.endsWith('.meta'));
    assert.deepEqual(metas.map((m) => m.slice(0, -'.meta'.length)).sort(), [...needMeta].sort());
    const guids = metas.map((m) => parseUnityMeta(files.get(m)!));
    assert.equal(new Set(guids.map((g) => g.guid)).size, guids.length, 'GUIDs are unique');
    const importerOf = (path: string) => parseUnityMeta(files.get(`${path}.meta`)!);
    assert.deepEqual(importerOf('Assets/MapExport'), {
      guid: stableGuid('seed-1', 'Assets/MapExport'),
      importer: 'DefaultImporter',
      folder: true,
    });
    assert.equal(importerOf('Assets/MapExport/Map.prefab').importer, 'PrefabImporter');
    assert.equal(importerOf('Assets/MapExport/Scripts/MapContent.cs').importer, 'MonoImporter');
    assert.equal(importerOf('Assets/MapExport/Content/MapContent.asset').importer, 'NativeFormatImporter');
    assert.equal(importerOf('Assets/MapExport/Files/map.png').importer, 'TextureImporter');
    assert.equal(importerOf('Assets/MapExport/Files/uploads/notes.pdf').importer, 'DefaultImporter');
    assert.equal(importerOf('Assets/MapExport/Files/uploads').folder, true);
    assert.ok(!files.has('Assets/MapExport/Files/map.png'), 'asset binaries are the caller’s');
  });

  it('builds the prefab as a GameObject/Transform tree whose references resolve', () => {
    const input = sampleInput();
    const docs = checkDocuments(unity(input).get('Assets/MapExport/Map.prefab')!);
    const byId = new Map(docs.map((d) => [d.fileId, d]));
    const gameObjects = docs.filter((d) => d.classId === 1);
    const transforms = docs.filter((d) => d.classId === 4);
    assert.ok(gameObjects.every((d) => d.type === 'GameObject'));
    assert.ok(transforms.every((d) => d.type === 'Transform'));
    assert.equal(gameObjects.length, 1 + input.map.regions.length + input.map.places.length);
    assert.equal(transforms.length, gameObjects.length);

    const nameOfTransform = (t: UnityDocument) =>
      String(byId.get(ref(t.body['m_GameObject']))!.body['m_Name']);
    for (const go of gameObjects) {
      const components = go.body['m_Component'] as YamlValue[];
      const transform = byId.get(ref((components[0] as Record<string, YamlValue>)['component']))!;
      assert.equal(transform.classId, 4);
      assert.equal(ref(transform.body['m_GameObject']), go.fileId);
    }
    for (const t of transforms) {
      const father = ref(t.body['m_Father']);
      if (father !== '0') {
        const parent = byId.get(father)!;
        assert.equal(parent.classId, 4);
        assert.ok(
          (parent.body['m_Children'] as YamlValue[]).map(ref).includes(t.fileId),
          'father lists the child',
        );
      }
      for (const child of t.body['m_Children'] as YamlValue[]) {
        assert.equal(
          ref(byId.get(ref(child))!.body['m_Father']),
          t.fileId,
          'child points back at its father',
        );
      }
    }
    const roots = transforms.filter((t) => ref(t.body['m_Father']) === '0');
    assert.deepEqual(roots.map(nameOfTransform), ['Map']);
    for (const place of input.map.places) {
      const t = transforms.find((d) => nameOfTransform(d) === place.name)!;
      assert.equal(nameOfTransform(byId.get(ref(t.body['m_Father']))!), place.region);
    }
  });

  it('links the content asset to the script by the script meta GUID, with matching fields', () => {
    const input = sampleInput();
    const files = unity(input);
    const scriptGuid = parseUnityMeta(files.get('Assets/MapExport/Scripts/MapContent.cs.meta')!).guid;
    const [asset] = checkDocuments(files.get('Assets/MapExport/Content/MapContent.asset')!);
    assert.equal(asset!.classId, 114);
    assert.equal(asset!.fileId, '11400000');
    assert.deepEqual(asset!.body['m_Script'], { fileID: '11500000', guid: scriptGuid, type: '3' });

    const classes = parseCsClasses(files.get('Assets/MapExport/Scripts/MapContent.cs')!);
    const mapContent = classes.get('MapContent')!;
    assert.equal(mapContent.base, 'ScriptableObject');
    const own = Object.keys(asset!.body).filter((k) => !k.startsWith('m_'));
    assert.deepEqual(own, mapContent.fields, 'asset keys are the ScriptableObject fields');

    for (const table of buildTables(input)) {
      const rows = asset!.body[camelCase(table.name)] as YamlValue[];
      assert.equal(rows.length, table.rows.length, table.name);
      const fields = classes.get(`${table.struct}Row`)!.fields;
      for (const row of rows)
        assert.deepEqual(Object.keys(row as object), fields, `${table.name} row fields`);
    }
    const npc = (asset!.body['npcs'] as Record<string, YamlValue>[])[0]!;
    assert.deepEqual(npc['traits'], ['curious', 'loyal']);
    assert.equal(npc['backstory'], 'Ran away to sea.\nCame back.');
  });

  it('escapes names so they round-trip through YAML', () => {
    const files = unity({ map: trickyMap(), assets: [], title: TRICKY_NAME });
    const docs = checkDocuments(files.get('Assets/MapExport/Map.prefab')!);
    const names = docs.filter((d) => d.classId === 1).map((d) => d.body['m_Name']);
    assert.ok(names.includes(TRICKY_NAME));
    assert.ok(names.includes('Ünïcødé ☃'));
    const [asset] = checkDocuments(files.get('Assets/MapExport/Content/MapContent.asset')!);
    assert.equal(asset!.body['title'], TRICKY_NAME);
    const region = (asset!.body['regions'] as Record<string, YamlValue>[])[0]!;
    assert.equal(region['description'], trickyMap().regions[0]!.description);
    const second = (asset!.body['regions'] as Record<string, YamlValue>[])[1]!;
    assert.equal(second['description'], trickyMap().regions[1]!.description, 'control characters');
  });

  it('derives GUIDs and fileIDs from the seed', () => {
    const a = unity(sampleInput(), 'one');
    const b = unity(sampleInput(), 'two');
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const path of [...a.keys()].filter((p) => p.endsWith('.meta'))) {
      assert.notEqual(parseUnityMeta(a.get(path)!).guid, parseUnityMeta(b.get(path)!).guid, path);
    }
    const ids = (files: Map<string, string>) =>
      parseUnityYaml(files.get('Assets/MapExport/Map.prefab')!).map((d) => d.fileId);
    assert.notDeepEqual(ids(a), ids(b));
    assert.deepEqual(ids(a), ids(unity(sampleInput(), 'one')));
  });
});
