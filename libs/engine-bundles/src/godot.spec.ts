import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEngineFiles } from './index';
import { TRICKY_NAME, sampleInput, trickyMap } from './fixtures';
import { type BundleInput } from './input';
import { GodotCall, type GodotParsed, type GodotSection, parseGodotText } from './test-parsers';

const SEED = 'seed-1';

function godot(input: BundleInput, version: 3 | 4): Map<string, string> {
  const files = buildEngineFiles(input, { engine: 'godot', godotVersion: version, seed: SEED });
  return new Map(files.map((f) => [f.path, f.content.toString('utf8')]));
}

/** The scene's nodes with their parent paths resolved to full paths (root = `.`). */
function sceneNodes(sections: GodotSection[]) {
  const nodes = sections.filter((s) => s.tag === 'node');
  const paths = new Set<string>();
  return nodes.map((node, i) => {
    const name = node.attrs['name'];
    const type = node.attrs['type'];
    assert.equal(typeof name, 'string');
    assert.equal(typeof type, 'string');
    const parent = node.attrs['parent'];
    if (i === 0) assert.equal(parent, undefined, 'the first node is the root');
    else assert.equal(typeof parent, 'string', `${String(name)} has a parent`);
    const parentPath = parent === undefined ? '' : parent === '.' ? '.' : `./${String(parent)}`;
    if (parentPath)
      assert.ok(paths.has(parentPath), `parent ${parentPath} is declared before ${String(name)}`);
    const path = parentPath ? `${parentPath}/${String(name)}` : '.';
    assert.ok(!paths.has(path), `sibling names are unique: ${path}`);
    paths.add(path);
    return { name: name as string, type: type as string, path, parentPath, node };
  });
}

function meta(section: GodotSection, version: 3 | 4, key: string): GodotParsed | undefined {
  if (version === 4) return section.props.get(`metadata/${key}`);
  const dict = section.props.get('__meta__');
  assert.ok(dict && typeof dict === 'object' && !Array.isArray(dict) && !(dict instanceof GodotCall));
  return (dict as Record<string, GodotParsed>)[key];
}

const INVALID_NODE_CHARS = /[.:@/"%]/;

for (const version of [4, 3] as const) {
  describe(`Godot ${version} scene`, () => {
    it('declares the scene header, the root and a node per region, place and route', () => {
      const input = sampleInput();
      const files = godot(input, version);
      const scene = parseGodotText(files.get('MapExport/scenes/map.tscn')!);
      const header = scene[0]!;
      assert.equal(header.tag, 'gd_scene');
      assert.equal(header.attrs['format'], version === 4 ? 3 : 2);
      const loadSteps = header.attrs['load_steps'];
      assert.equal(loadSteps, 1 + scene.filter((s) => s.tag === 'ext_resource').length);
      if (version === 4) assert.match(String(header.attrs['uid']), /^uid:\/\/[a-z0-7]+$/);
      else assert.equal(header.attrs['uid'], undefined);

      const nodes = sceneNodes(scene);
      assert.deepEqual([nodes[0]!.name, nodes[0]!.type], ['Map', 'Node2D']);
      const byOriginal = (o: string) => nodes.filter((n) => meta(n.node, version, 'original_name') === o);
      for (const region of input.map.regions) {
        const [node] = byOriginal(region.name);
        assert.ok(node, region.name);
        assert.equal(node.type, 'Node2D');
        assert.equal(node.parentPath, '.');
        assert.equal(meta(node.node, version, 'description'), region.description);
      }
      const markerType = version === 4 ? 'Marker2D' : 'Position2D';
      for (const place of input.map.places) {
        const [node] = byOriginal(place.name);
        assert.ok(node, place.name);
        assert.equal(node.type, markerType);
        const region = nodes.find((n) => n.path === node.parentPath)!;
        assert.equal(meta(region.node, version, 'original_name'), place.region);
        // Local position + region centre = map position.
        const local = node.node.props.get('position') as GodotCall;
        const centre = region.node.props.get('position') as GodotCall;
        assert.equal(local.name, 'Vector2');
        assert.deepEqual(
          [Number(local.args[0]) + Number(centre.args[0]), Number(local.args[1]) + Number(centre.args[1])],
          [place.x, place.y],
        );
      }
      const lines = nodes.filter((n) => n.type === 'Line2D');
      assert.equal(lines.length, input.map.routes.length);
      input.map.routes.forEach((route, i) => {
        const points = lines[i]!.node.props.get('points') as GodotCall;
        assert.equal(points.name, version === 4 ? 'PackedVector2Array' : 'PoolVector2Array');
        assert.deepEqual(points.args, [route.x1, route.y1, route.x2, route.y2]);
        assert.equal(meta(lines[i]!.node, version, 'from'), route.from);
      });
      const texture = nodes.filter((n) => n.type === 'Sprite2D');
      assert.equal(texture.length, version === 4 ? 1 : 0, 'only Godot 4 references the texture');
      const expectedCount = 1 + input.map.regions.length + input.map.places.length + input.map.routes.length;
      assert.equal(nodes.length, expectedCount + texture.length);
    });

    it('writes the Godot 3 syntax only for Godot 3', () => {
      const scene = godot(sampleInput(), version).get('MapExport/scenes/map.tscn')!;
      assert.equal(scene.includes('PoolVector2Array( '), version === 3);
      assert.equal(scene.includes('Position2D'), version === 3);
      assert.equal(scene.includes('__meta__'), version === 3);
      assert.equal(scene.includes('metadata/'), version === 4);
      assert.equal(scene.includes('res://assets/'), version === 4);
      if (version === 3)
        assert.ok(!/ext_resource|res:\/\//.test(scene), 'the Godot 3 scene references nothing');
    });

    it('sanitizes node names, keeps them unique and maps them back to the originals', () => {
      const map = trickyMap();
      const scene = parseGodotText(godot({ map, assets: [] }, version).get('MapExport/scenes/map.tscn')!);
      const nodes = sceneNodes(scene);
      for (const node of nodes) assert.ok(!INVALID_NODE_CHARS.test(node.name), `valid name: ${node.name}`);
      const regionNodes = nodes.filter((n) => n.parentPath === '.' && n.type === 'Node2D');
      assert.equal(new Set(regionNodes.map((n) => n.name)).size, map.regions.length);
      assert.deepEqual(
        regionNodes.map((n) => meta(n.node, version, 'original_name')),
        map.regions.map((r) => r.name),
      );
      const names = meta(nodes[0]!.node, version, 'names') as Record<string, GodotParsed>;
      const expected = [
        ...map.regions.map((r) => r.name),
        ...map.places.map((p) => p.name),
        ...map.routes.map((r) => `${r.from} - ${r.to}`),
      ].sort();
      assert.deepEqual(Object.values(names).map(String).sort(), expected);
      for (const node of nodes.slice(1)) {
        assert.equal(names[node.path.slice(2)], meta(node.node, version, 'original_name'), node.path);
      }
    });

    it('escapes strings so quotes, backslashes and newlines round-trip', () => {
      const map = trickyMap();
      const scene = parseGodotText(godot({ map, assets: [] }, version).get('MapExport/scenes/map.tscn')!);
      const region = sceneNodes(scene).find((n) => meta(n.node, version, 'original_name') === TRICKY_NAME);
      assert.ok(region);
      assert.equal(region.name, 'A _quoted_ _ name_ with_slash_');
      assert.equal(meta(region.node, version, 'description'), map.regions[0]!.description);
      const second = sceneNodes(scene).find((n) => n.name === 'A _quoted_ _ name_ with_slash__2')!;
      assert.equal(
        meta(second.node, version, 'description'),
        map.regions[1]!.description,
        'control characters',
      );
      const project = parseGodotText(
        godot({ map, assets: [], title: TRICKY_NAME }, version).get('MapExport/project.godot')!,
      );
      const application = project.find((s) => s.tag === 'application')!;
      assert.equal(application.props.get('config/name'), TRICKY_NAME);
    });

    it('writes project.godot and one content resource per kind', () => {
      const input = sampleInput();
      const files = godot(input, version);
      const project = parseGodotText(files.get('MapExport/project.godot')!);
      assert.equal(project[0]!.props.get('config_version'), version === 4 ? 5 : 4);
      const application = project.find((s) => s.tag === 'application')!;
      assert.equal(application.props.get('run/main_scene'), 'res://scenes/map.tscn');
      assert.equal(application.props.get('config/name'), input.title);

      const npcs = parseGodotText(files.get('MapExport/content/npcs.tres')!);
      assert.equal(npcs[0]!.tag, 'gd_resource');
      assert.equal(npcs[0]!.attrs['type'], 'Resource');
      assert.equal(npcs[0]!.attrs['format'], version === 4 ? 3 : 2);
      const resource = npcs.find((s) => s.tag === 'resource')!;
      assert.deepEqual(meta(resource, version, 'items'), input.campaign!.npcs);
      const paths = [...files.keys()].filter((p) => p.startsWith('MapExport/content/'));
      assert.deepEqual(
        paths,
        ['dungeons', 'encounters', 'npcs', 'pois', 'quests'].map((k) => `MapExport/content/${k}.tres`),
      );
    });
  });
}
