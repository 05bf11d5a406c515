import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layoutMap, seededRandom } from './layout';
import { normalizeStructure, sectionsPrompt, splitSections, UNASSIGNED_REGION } from './parse';
import { escapeXml, renderJson, renderSvg } from './render';

const structure = {
  regions: [
    { name: 'North', description: 'cold' },
    { name: 'South', description: 'warm' },
    { name: 'north', description: 'duplicate of North' },
  ],
  places: [
    { name: 'A', region: 'North', kind: 'town' },
    { name: 'B', region: 'south', kind: 'village' },
    { name: 'a', region: 'South', kind: 'duplicate' },
    { name: 'C', region: 'Atlantis', kind: 'ruin' },
  ],
  routes: [
    { from: 'A', to: 'B', kind: 'road' },
    { from: 'B', to: 'A', kind: 'same road backwards' },
    { from: 'A', to: 'Nowhere', kind: 'road' },
    { from: 'C', to: 'C', kind: 'loop' },
  ],
};

describe('splitSections', () => {
  it('splits on ATX and Setext headings, keeps text before the first heading, drops empty text', () => {
    const sections = splitSections('intro line\r\n\r\n# One\ntext 1\n\nTwo\n---\ntext 2\n## Three ##\n');
    assert.deepEqual(sections, [
      { heading: null, text: 'intro line' },
      { heading: 'One', text: 'text 1' },
      { heading: 'Two', text: 'text 2' },
      { heading: 'Three', text: '' },
    ]);
  });

  it('a plain text document without headings is one section', () => {
    assert.deepEqual(splitSections('just some\ntext'), [{ heading: null, text: 'just some\ntext' }]);
    assert.deepEqual(splitSections('  \n\n'), []);
  });

  it('numbers the sections for the prompt', () => {
    assert.equal(
      sectionsPrompt([
        { heading: null, text: 'a' },
        { heading: 'B', text: 'b' },
      ]),
      '## Section 1\na\n\n## Section 2: B\nb',
    );
  });
});

describe('normalizeStructure', () => {
  it('deduplicates by name, moves places of unknown regions to Unassigned, drops dangling, reversed and self routes', () => {
    const model = normalizeStructure(structure);
    assert.deepEqual(
      model.regions.map((r) => r.name),
      ['North', 'South', UNASSIGNED_REGION],
    );
    assert.deepEqual(model.places, [
      { name: 'A', region: 'North', kind: 'town' },
      { name: 'B', region: 'South', kind: 'village' },
      { name: 'C', region: UNASSIGNED_REGION, kind: 'ruin' },
    ]);
    assert.deepEqual(model.routes, [{ from: 'A', to: 'B', kind: 'road' }]);
    assert.deepEqual(model.dropped, { duplicatePlaces: 1, unknownRoutes: 3, placesWithoutRegion: 1 });
  });
});

describe('layoutMap', () => {
  const model = normalizeStructure(structure);

  it('is the same for the same seed and differs for another seed', () => {
    assert.deepEqual(layoutMap(model, 'job-1'), layoutMap(model, 'job-1'));
    assert.notDeepEqual(layoutMap(model, 'job-1').places, layoutMap(model, 'job-2').places);
  });

  it('puts every region on the canvas without overlap and every place inside its region', () => {
    const layout = layoutMap(model, 'job-1');
    for (const r of layout.regions) {
      assert.ok(r.x >= 0 && r.y >= 0 && r.x + r.width <= layout.width && r.y + r.height <= layout.height);
      for (const other of layout.regions) {
        if (other === r) continue;
        const apart =
          r.x + r.width <= other.x ||
          other.x + other.width <= r.x ||
          r.y + r.height <= other.y ||
          other.y + other.height <= r.y;
        assert.ok(apart, `${r.name} and ${other.name} overlap`);
      }
    }
    for (const p of layout.places) {
      const r = layout.regions.find((region) => region.name === p.region)!;
      assert.ok(
        p.x > r.x && p.x < r.x + r.width && p.y > r.y + 32 && p.y < r.y + r.height,
        `${p.name} in ${r.name}`,
      );
    }
    const [route] = layout.routes;
    const a = layout.places.find((p) => p.name === 'A')!;
    assert.deepEqual([route!.x1, route!.y1], [a.x, a.y]);
  });

  it('a seeded sequence stays within [0, 1)', () => {
    const next = seededRandom('x');
    for (let i = 0; i < 1000; i++) {
      const v = next();
      assert.ok(v >= 0 && v < 1);
    }
  });
});

describe('render', () => {
  const layout = layoutMap(normalizeStructure(structure), 'job-1');

  it('the SVG starts with <svg, escapes names and has one circle per place', () => {
    const evil = layoutMap(
      normalizeStructure({
        regions: [{ name: '<script>alert(1)</script>', description: '"&' }],
        places: [{ name: 'x', region: '<script>alert(1)</script>', kind: 't' }],
        routes: [],
      }),
      's',
    );
    const svg = renderSvg(evil, 'Map of <doc>');
    assert.ok(svg.startsWith('<svg'));
    assert.doesNotMatch(svg, /<script>/);
    assert.match(svg, /&lt;script&gt;/);
    assert.equal((renderSvg(layout, 't').match(/<circle/g) ?? []).length, layout.places.length);
  });

  it('the JSON model is deterministic and carries the layout', () => {
    const meta = { jobId: 'job-1', filename: 'w.md', sections: 2 };
    assert.equal(renderJson(layout, meta), renderJson(layout, meta));
    const parsed = JSON.parse(renderJson(layout, meta)) as { version: number; places: unknown[] };
    assert.equal(parsed.version, 1);
    assert.equal(parsed.places.length, 3);
  });

  it('escapeXml escapes the five XML specials', () => {
    assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});
