/**
 * Issue 17's "Godot opens it": the Godot 3 bundle of an export, as the exporter stored it in
 * MinIO, unpacked and loaded by a real headless Godot 3 (Debian's godot3-server, installed by
 * `tools/infra tool godot3`), which prints the scene's node count and names; they must be the
 * map's regions, places and routes (original names read back from the nodes' metadata).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { ExporterFixture, readZip, runVerify } from './harness';

const CHECK_GD = `extends SceneTree

func _walk(node, out):
	var name = node.name
	if node.has_meta("original_name"):
		name = node.get_meta("original_name")
	out.append(node.get_class() + ":" + String(name).to_utf8().hex_encode())
	for child in node.get_children():
		_walk(child, out)

func _init():
	var scene = load("res://scenes/map.tscn")
	if scene == null:
		print("LOAD_FAILED")
		quit()
		return
	var root = scene.instance()
	var out = []
	_walk(root, out)
	print("COUNT\\t" + String(out.size()))
	for line in out:
		print("NODE\\t" + line)
	root.free()
	quit()
`;

describe('the Godot 3 bundle in headless Godot 3', () => {
  let fx: ExporterFixture;
  let godot: string;
  before(async () => {
    godot = execFileSync('bash', ['tools/infra', 'tool', 'godot3'], { cwd: WORKSPACE_ROOT, encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop()!;
    fx = await ExporterFixture.create();
    await fx.startExporter();
  });
  after(() => fx?.stop());

  test('loads the scene; its nodes are the map’s regions, places and routes', async () => {
    const project = await fx.createProject();
    await fx.createCampaign(project.id);
    const job = await fx.createExport({ projectId: project.id, engines: ['godot'], godotVersion: 3 });
    const done = await fx.waitForFinished(job.id);
    assert.equal(done.status, 'COMPLETED', done.error ?? '');
    const zip = await fx.download((done.result as { bundles: { key: string }[] }).bundles[0]!.key);
    assert.equal(runVerify(zip, (await fx.keysFile()).file).code, 0);

    const dir = mkdtempSync(join(tmpdir(), 'exporter-godot3-'));
    for (const entry of await readZip(zip)) {
      const path = join(dir, entry.name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, entry.data);
    }
    const root = join(dir, 'MapExport');
    writeFileSync(join(root, 'check.gd'), CHECK_GD);
    const home = join(dir, 'home');
    const stdout = execFileSync(godot, ['--no-window', '--path', root, '-s', 'res://check.gd'], {
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        XDG_DATA_HOME: join(home, 'd'),
        XDG_CONFIG_HOME: join(home, 'c'),
        XDG_CACHE_HOME: join(home, 'k'),
        LANG: 'C.UTF-8',
      },
    });
    assert.doesNotMatch(stdout, /LOAD_FAILED/);
    const nodes = stdout
      .split('\n')
      .filter((l) => l.startsWith('NODE\t'))
      .map((l) => {
        const [type, hex] = l.slice(5).split(':') as [string, string];
        return { type, name: Buffer.from(hex, 'hex').toString('utf8') };
      });
    const count = Number(/COUNT\t(\d+)/.exec(stdout)?.[1]);
    assert.equal(count, nodes.length, stdout);
    const names = (type: string) =>
      nodes
        .filter((n) => n.type === type)
        .map((n) => n.name)
        .sort();
    const map = project.map;
    assert.deepEqual(names('Position2D'), map.places.map((p) => p.name).sort(), stdout);
    assert.equal(names('Line2D').length, map.routes.length);
    for (const region of map.regions) {
      assert.ok(
        nodes.some((n) => n.type === 'Node2D' && n.name === region.name),
        `region ${region.name}:\n${stdout}`,
      );
    }
  });
});
