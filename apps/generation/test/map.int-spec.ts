import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FleetHeaders } from '@fleet/contracts';
import { type AppProcess } from '@fleet/service-kit/testing';
import { GenerationFixture } from './harness';

const DOCUMENT = `# The Vale of Amber

A quiet valley of farms between two mountain ranges.

## Northreach

The cold north, where the pass to the mountains begins. Frostgate guards the pass; the village of
Pinehold sits below it.

## Riverlands

Green fields along the Amber river. Millbrook is the market town; Ferrydown is where the ferry crosses.

## Old Coast

Cliffs and fishing harbours. Saltmere is the harbour town.

Roads: the King's Road runs from Frostgate through Pinehold to Millbrook. A ferry links Ferrydown and
Saltmere, and a path follows the river from Millbrook to Ferrydown.
`;

const STRUCTURE = {
  regions: [
    { name: 'Northreach', description: 'The cold north at the mountain pass.' },
    { name: 'Riverlands', description: 'Green fields along the Amber river.' },
    { name: 'Old Coast', description: 'Cliffs and fishing harbours.' },
  ],
  places: [
    { name: 'Frostgate', region: 'Northreach', kind: 'fort' },
    { name: 'Pinehold', region: 'Northreach', kind: 'village' },
    { name: 'Millbrook', region: 'Riverlands', kind: 'town' },
    { name: 'Ferrydown', region: 'Riverlands', kind: 'village' },
    { name: 'Saltmere', region: 'Old Coast', kind: 'harbour' },
  ],
  routes: [
    { from: 'Frostgate', to: 'Pinehold', kind: 'road' },
    { from: 'Pinehold', to: 'Millbrook', kind: 'road' },
    { from: 'Ferrydown', to: 'Saltmere', kind: 'ferry' },
    { from: 'Millbrook', to: 'Ferrydown', kind: 'path' },
  ],
};

describe('generation: map generation', () => {
  let fx: GenerationFixture;
  let worker: AppProcess;

  before(async () => {
    fx = await GenerationFixture.create();
    fx.llm.setResponder((request) => (request.schemaName === 'map_structure' ? STRUCTURE : undefined));
    worker = await fx.startWorker();
  });
  after(async () => {
    await worker?.stop();
    await fx?.close();
  });

  test('a Markdown document becomes a JSON model and an SVG in MinIO; progress goes 0 → 100 through parse, layout, render, store', async () => {
    const created = await fx.createMapJob(DOCUMENT, 'vale.md');
    const done = await fx.waitForJob(created.id, ['COMPLETED', 'FAILED']);
    assert.equal(done.status, 'COMPLETED', `error: ${done.error}`);
    const result = done.result as {
      artifacts: { json: string; svg: string };
      regions: number;
      places: number;
      routes: number;
      sections: number;
    };
    assert.deepEqual(result.artifacts, {
      json: `jobs/${created.id}/map.json`,
      svg: `jobs/${created.id}/map.svg`,
    });
    assert.equal(result.regions, 3);
    assert.equal(result.places, 5);
    assert.equal(result.routes, 4);
    assert.equal(result.sections, 4);

    const model = JSON.parse(await fx.objectText(result.artifacts.json)) as {
      jobId: string;
      regions: Array<{ name: string; x: number; y: number; width: number; height: number }>;
      places: Array<{ name: string; region: string; x: number; y: number }>;
    };
    assert.equal(model.jobId, created.id);
    for (const place of model.places) {
      const region = model.regions.find((r) => r.name === place.region)!;
      assert.ok(
        place.x > region.x &&
          place.x < region.x + region.width &&
          place.y > region.y &&
          place.y < region.y + region.height,
        `${place.name} lies inside ${region.name}`,
      );
    }
    const svg = await fx.objectText(result.artifacts.svg);
    assert.ok(svg.startsWith('<svg'), svg.slice(0, 40));
    assert.match(svg, /Frostgate/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));

    const events = await fx.replay(created.id);
    assert.equal(events[0]!.type, 'job_started');
    assert.equal(events[0]!.progress, 0);
    assert.equal(events.at(-1)!.type, 'job_completed');
    assert.equal(events.at(-1)!.progress, 100);
    const progress = events.map((e) => e.progress);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      'progress never goes down',
    );
    const stages = new Set(events.filter((e) => e.type === 'progress_update').map((e) => e.stage));
    assert.deepEqual([...stages], ['parse', 'layout', 'render', 'store']);
  });

  test('a document without text fails at once (no retry) with DOCUMENT_EMPTY and a DLQ record', async () => {
    const created = await fx.createMapJob('\n\n   --- \n***\n', 'blank.md');
    const done = await fx.waitForJob(created.id, ['COMPLETED', 'FAILED']);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.attempts, 1);
    assert.match(done.error ?? '', /no text/);
    await fx.dlq.until('the DLQ record', () => fx.dlqFor(created.id).length > 0, 15_000);
    assert.equal(fx.dlqFor(created.id)[0]!.headers[FleetHeaders.dlqErrorCode], 'DOCUMENT_EMPTY');
  });
});
