import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENGINES, assetRoot, buildEngineFiles, stableGuid } from './index';
import { sampleInput } from './fixtures';
import { type BundleInput } from './input';
import { formatNumber, godotUid, UniqueNames } from './util';
import { rowKey } from './tables';

const VARIANTS = [
  { engine: 'godot', godotVersion: 4 },
  { engine: 'godot', godotVersion: 3 },
  { engine: 'unity', godotVersion: 4 },
  { engine: 'ue5', godotVersion: 4 },
] as const;

describe('buildEngineFiles', () => {
  for (const variant of VARIANTS) {
    const label = `${variant.engine}${variant.engine === 'godot' ? variant.godotVersion : ''}`;

    it(`is deterministic, sorted and under one top-level folder (${label})`, () => {
      const a = buildEngineFiles(sampleInput(), { ...variant, seed: 's' });
      const b = buildEngineFiles(structuredClone(sampleInput()), { ...variant, seed: 's' });
      assert.deepEqual(
        a.map((f) => [f.path, f.content.toString('base64')]),
        b.map((f) => [f.path, f.content.toString('base64')]),
      );
      const paths = a.map((f) => f.path);
      assert.deepEqual(paths, [...paths].sort());
      assert.equal(new Set(paths).size, paths.length);
      assert.equal(new Set(paths.map((p) => p.split('/')[0])).size, 1);
      assert.ok(assetRoot(variant.engine).startsWith(`${paths[0]!.split('/')[0]}/`));
      for (const asset of sampleInput().assets) {
        assert.ok(!paths.includes(`${assetRoot(variant.engine)}${asset.path}`), 'no asset binaries');
      }
      for (const file of a) {
        const text = file.content.toString('utf8');
        assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'), `${file.path} ends with one newline`);
        assert.ok(!text.includes('\uFFFD'));
      }
    });
  }

  it('changes only seeded identifiers when the seed changes', () => {
    const godotA = buildEngineFiles(sampleInput(), { engine: 'godot', godotVersion: 3, seed: 'a' });
    const godotB = buildEngineFiles(sampleInput(), { engine: 'godot', godotVersion: 3, seed: 'b' });
    assert.deepEqual(godotA, godotB, 'Godot 3 has no seeded identifiers');
    const ueA = buildEngineFiles(sampleInput(), { engine: 'ue5', godotVersion: 4, seed: 'a' });
    assert.deepEqual(ueA, buildEngineFiles(sampleInput(), { engine: 'ue5', godotVersion: 4, seed: 'b' }));
    const g4 = (seed: string) =>
      buildEngineFiles(sampleInput(), { engine: 'godot', godotVersion: 4, seed }).find((f) =>
        f.path.endsWith('map.tscn'),
      )!.content;
    assert.notDeepEqual(g4('a'), g4('b'));
  });

  it('refuses invalid input, strips unknown keys', () => {
    const bad = (change: (input: BundleInput) => void) => {
      const input = sampleInput();
      change(input);
      return () => buildEngineFiles(input, { engine: 'unity', godotVersion: 4, seed: 's' });
    };
    assert.throws(bad((i) => (i.assets[0]!.path = '../escape.png')));
    assert.throws(bad((i) => (i.assets[0]!.path = '/abs.png')));
    assert.throws(bad((i) => (i.assets[0]!.path = 'map.png.meta')));
    assert.throws(bad((i) => i.assets.push({ path: 'MAP.png', kind: 'file', size: 1 })));
    assert.throws(bad((i) => i.assets.push({ path: 'map.png/inner', kind: 'file', size: 1 })));
    assert.throws(bad((i) => (i.map.regions[0]!.name = 'x'.repeat(201))));
    assert.throws(bad((i) => (i.map.width = Number.NaN)));
    const extra = { ...sampleInput(), extra: 'ignored' } as BundleInput;
    assert.deepEqual(
      buildEngineFiles(extra, { engine: 'ue5', godotVersion: 4, seed: 's' }),
      buildEngineFiles(sampleInput(), { engine: 'ue5', godotVersion: 4, seed: 's' }),
    );
  });

  it('exports the engines and their asset roots', () => {
    assert.deepEqual([...ENGINES], ['godot', 'unity', 'ue5']);
    assert.deepEqual(ENGINES.map(assetRoot), [
      'MapExport/assets/',
      'Assets/MapExport/Files/',
      'MapExport/Content/Assets/',
    ]);
  });
});

describe('identifiers and helpers', () => {
  it('stableGuid is 32 hex digits, stable per seed and path', () => {
    assert.match(stableGuid('s', 'a'), /^[0-9a-f]{32}$/);
    assert.equal(stableGuid('s', 'a'), stableGuid('s', 'a'));
    assert.notEqual(stableGuid('s', 'a'), stableGuid('t', 'a'));
    assert.notEqual(stableGuid('s', 'a'), stableGuid('s', 'b'));
    assert.notEqual(stableGuid('s\u0000', 'a'), stableGuid('s', '\u0000a'));
  });

  it('godotUid uses Godot’s base-34 alphabet', () => {
    assert.match(godotUid('x'), /^uid:\/\/[a-z0-7]{1,13}$/);
    assert.notEqual(godotUid('x'), godotUid('y'));
  });

  it('formats numbers without -0 or exponents', () => {
    assert.deepEqual([-0, 1 / 3, 1e-7, 999999.9999, 12].map(formatNumber), [
      '0',
      '0.333',
      '0',
      '1000000',
      '12',
    ]);
  });

  it('dedupes names, case-insensitively when asked', () => {
    const names = new UniqueNames();
    assert.deepEqual(
      ['a', 'a', 'a_2', 'A'].map((n) => names.take(n)),
      ['a', 'a_2', 'a_2_2', 'A'],
    );
    const folded = new UniqueNames(true);
    assert.deepEqual(
      ['a', 'A'].map((n) => folded.take(n)),
      ['a', 'A_2'],
    );
  });

  it('makes row keys Unreal accepts', () => {
    assert.equal(rowKey('Café "Noir", 2nd/floor'), 'Cafe_Noir_2nd_floor');
    assert.equal(rowKey('☃☃'), 'Row');
  });
});
