import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONTENT_KINDS, buildEngineFiles } from './index';
import { sampleInput, trickyMap } from './fixtures';
import { type BundleInput } from './input';

/**
 * Opens the Godot 3 export in a real headless Godot 3 (Debian's godot3-server): the scene must
 * load and instance, and its nodes must be the map's regions, places and routes, with the names
 * Godot actually gives them and the original names read back from their metadata.
 */

const REPO = resolve(__dirname, '../../..');

/** Prints one line per node (path, class, name, original name, description) and the content. */
const CHECK_GD = `extends SceneTree

func _walk(node, path):
	var original = ""
	if node.has_meta("original_name"):
		original = node.get_meta("original_name")
	var description = ""
	if node.has_meta("description"):
		description = node.get_meta("description")
	# Hex, because Godot 3's to_json leaves control characters unescaped.
	var fields = [path, node.get_class(), node.name, original, description]
	var hex = []
	for field in fields:
		hex.append(String(field).to_utf8().hex_encode())
	print("NODE\\t" + PoolStringArray(hex).join(","))
	for child in node.get_children():
		_walk(child, path + "/" + child.name)

func _init():
	var scene = load("res://scenes/map.tscn")
	if scene == null:
		print("LOAD_FAILED")
		quit()
		return
	var root = scene.instance()
	_walk(root, ".")
	root.free()
	for kind in [${CONTENT_KINDS.map((k) => `"${k}"`).join(', ')}]:
		var resource = load("res://content/" + kind + ".tres")
		print("CONTENT\\t" + to_json([kind, resource.get_meta("items")]))
	print("DONE")
	quit()
`;

interface GodotNode {
  path: string;
  type: string;
  name: string;
  original: string;
  description: string;
}

describe('Godot 3 export in headless Godot 3', () => {
  let godot: string;
  let work: string;

  before(() => {
    const out = execFileSync('bash', [join(REPO, 'tools/infra'), 'tool', 'godot3'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    godot = out.trim().split('\n').pop()!;
    work = mkdtempSync(join(tmpdir(), 'engine-bundles-godot3-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  /** Writes the export and check.gd, runs Godot, returns the nodes and content it printed. */
  function runGodot(label: string, input: BundleInput) {
    const dir = join(work, label);
    for (const file of buildEngineFiles(input, { engine: 'godot', godotVersion: 3, seed: 'int' })) {
      const path = join(dir, file.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, file.content);
    }
    const project = join(dir, 'MapExport');
    writeFileSync(join(project, 'check.gd'), CHECK_GD);
    const home = join(work, `${label}-home`);
    mkdirSync(home, { recursive: true });
    const stdout = execFileSync(godot, ['--no-window', '--path', project, '-s', 'res://check.gd'], {
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: home,
        XDG_DATA_HOME: join(home, 'data'),
        XDG_CONFIG_HOME: join(home, 'config'),
        XDG_CACHE_HOME: join(home, 'cache'),
        LANG: 'C.UTF-8',
      },
    });
    const lines = stdout.split('\n');
    assert.ok(lines.includes('DONE'), `Godot finished the check:\n${stdout}`);
    const nodes = lines
      .filter((l) => l.startsWith('NODE\t'))
      .map((l) => {
        const fields = l.slice(5).split(',');
        assert.equal(fields.length, 5);
        const [path, type, name, original, description] = fields.map((f) =>
          Buffer.from(f, 'hex').toString('utf8'),
        );
        return { path: path!, type: type!, name: name!, original: original!, description: description! };
      });
    const content = new Map(
      lines
        .filter((l) => l.startsWith('CONTENT\t'))
        .map((l) => JSON.parse(l.slice(8)) as [string, unknown[]])
        .map(([kind, items]) => [kind, items.length]),
    );
    return { nodes, content };
  }

  function assertMatchesMap(nodes: GodotNode[], input: BundleInput) {
    const { map } = input;
    assert.deepEqual(nodes[0], { path: '.', type: 'Node2D', name: 'Map', original: 'Map', description: '' });
    const children = nodes.slice(1);
    assert.equal(children.length, map.regions.length + map.places.length + map.routes.length, 'node count');
    const originals = (type: string) => children.filter((n) => n.type === type).map((n) => n.original);
    assert.deepEqual(
      originals('Node2D'),
      map.regions.map((r) => r.name),
    );
    assert.deepEqual(
      children.filter((n) => n.type === 'Node2D').map((n) => n.description),
      map.regions.map((r) => r.description),
      'descriptions (quotes, backslashes, newlines, control characters) survive Godot’s parser',
    );
    assert.deepEqual(originals('Position2D').sort(), map.places.map((p) => p.name).sort());
    assert.deepEqual(
      originals('Line2D'),
      map.routes.map((r) => `${r.from} - ${r.to}`),
    );
    for (const node of children) {
      assert.equal(node.path.split('/').pop(), node.name);
      assert.ok(!/[.:@/"%]/.test(node.name), `Godot kept a valid name: ${node.name}`);
    }
    for (const place of map.places) {
      const node = children.find((n) => n.type === 'Position2D' && n.original === place.name)!;
      const parent = children.find((n) => n.path === node.path.slice(0, node.path.lastIndexOf('/')))!;
      assert.equal(parent.original, place.region, `${place.name} is under its region`);
    }
    assert.equal(new Set(children.map((n) => n.path)).size, children.length, 'Godot renamed nothing');
  }

  it('loads a normal map and its campaign content', () => {
    const input = sampleInput();
    const { nodes, content } = runGodot('normal', input);
    assertMatchesMap(nodes, input);
    assert.deepEqual(
      nodes
        .slice(1)
        .map((n) => n.name)
        .filter((n) => input.map.regions.some((r) => r.name === n)),
      ['Northreach', 'Saltmarsh'],
    );
    for (const kind of CONTENT_KINDS) assert.equal(content.get(kind), input.campaign![kind]!.length, kind);
  });

  it('loads a map whose names need sanitizing, with the originals intact', () => {
    const input: BundleInput = { map: trickyMap(), assets: [], title: 'Weird "title" \\ here' };
    const { nodes, content } = runGodot('tricky', input);
    assertMatchesMap(nodes, input);
    for (const kind of CONTENT_KINDS) assert.equal(content.get(kind), 0, kind);
  });
});
