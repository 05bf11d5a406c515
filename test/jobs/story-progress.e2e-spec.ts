/**
 * Issue 6's acceptance through the whole fleet: a story created at the api, its enhancement job
 * run by the generation worker on the (fake) LLM, its progress watched over the api's WebSocket —
 * in order, and after a reconnect with the last seq exactly the missed events; and a map job from
 * an uploaded document whose artifacts download from MinIO through the api's links; then issue 17's
 * walkthrough: that map exported for the three engines by the exporter, its progress on the same
 * WebSocket, the bundles downloaded through the api's links and checked by the shipped verify.js.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeLlmServer } from '@fleet/llm/testing';
import { WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import WebSocket from 'ws';
import { call, startChatFleet, type ChatFleet } from '../chat/harness';

interface Frame {
  type: string;
  seq?: number;
  progress?: number;
  stage?: string;
}

/** A job-events socket; resolves `frames` as they come, `closed` when the server ends it. */
function watch(url: string) {
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as Frame);
    waiters.splice(0).forEach((wake) => wake());
  });
  const until = async (done: (frames: Frame[]) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!done(frames)) {
      if (Date.now() > deadline) throw new Error(`timed out; frames so far: ${JSON.stringify(frames)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  return { ws, frames, until, closed };
}

const events = (frames: Frame[]) => frames.filter((f) => f.type !== 'subscribed' && f.seq !== undefined);

describe('jobs with live progress (api, outbox-poller, generation, exporter, fake LLM)', () => {
  let fleet: ChatFleet;
  let llm: FakeLlmServer;
  let token: string;
  /** The map job the markdown test completes; the export test exports it. */
  let mapJobId: string | undefined;
  before(async () => {
    // Slow enough (≈ 3 s a call) that a client can leave and come back while the job runs.
    llm = await FakeLlmServer.start({ models: ['fake-7b-instruct'], tokensPerSecond: 10 });
    fleet = await startChatFleet({
      routers: 0,
      generation: 1,
      exporter: 1,
      llm: { endpoint: llm.url, model: 'fake-7b-instruct' },
    });
    token = await fleet.token('reader');
  });
  after(async () => {
    await fleet?.stop();
    await llm?.stop();
  });

  test('story → job COMPLETED with the LLM scores; events in order; a reconnect with the last seq gets exactly the missed ones', async () => {
    const created = await call<{ story: { id: string; hypeScore: number }; jobId: string }>(
      `${fleet.apiUrl}/v1/stories`,
      token,
      {
        method: 'POST',
        body: {
          title: 'A breakthrough in batteries',
          content: 'A lab reports a new chemistry; privacy is not involved.',
        },
      },
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { jobId } = created.body;
    const socket = (lastSeq: number) =>
      `${fleet.apiUrl.replace('http', 'ws')}/v1/jobs/${jobId}/events?lastSeq=${lastSeq}&access_token=${token}`;

    // First client: stays to the end.
    const full = watch(socket(0));
    // Second client: leaves after two events, comes back with its last seq.
    const early = watch(socket(0));
    await early.until((f) => events(f).length >= 2);
    const seen = events(early.frames);
    const lastSeq = seen[seen.length - 1]!.seq!;
    early.ws.close();
    await early.closed;

    await full.until(
      (f) => events(f).some((e) => e.type === 'job_completed' || e.type === 'job_failed'),
      60_000,
    );
    const all = events(full.frames);
    assert.equal(all[0]!.type, 'job_started');
    assert.ok(all.filter((e) => e.type === 'progress_update').length >= 3, JSON.stringify(all));
    assert.equal(all[all.length - 1]!.type, 'job_completed', JSON.stringify(all));
    assert.deepEqual(
      all.map((e) => e.seq),
      Array.from({ length: all.length }, (_, i) => i + 1),
      'seq 1, 2, 3 … without gaps or repeats',
    );

    const back = watch(socket(lastSeq));
    await back.until((f) => events(f).some((e) => e.type === 'job_completed'));
    assert.deepEqual(
      events(back.frames).map((e) => e.seq),
      all.filter((e) => e.seq! > lastSeq).map((e) => e.seq),
      `after reconnecting with lastSeq=${lastSeq}: exactly the missed events`,
    );
    full.ws.close();
    back.ws.close();

    const job = await call<{ status: string; attempts: number; progress: number }>(
      `${fleet.apiUrl}/v1/jobs/${jobId}`,
      token,
    );
    assert.equal(job.body.status, 'COMPLETED');
    assert.equal(job.body.progress, 100);
    const story = await call<{ scoresSource: string; realityCheck: string | null }>(
      `${fleet.apiUrl}/v1/stories/${created.body.story.id}`,
      token,
    );
    assert.equal(story.body.scoresSource, 'llm', JSON.stringify(story.body));
    assert.ok(story.body.realityCheck, 'the LLM wrote a reality check');
    assert.equal(llm.calls.length, 1, 'one LLM call: the job ran once');
  });

  test('a markdown document → map job COMPLETED, progress 0 → 100, its JSON and SVG artifacts downloadable', async () => {
    const document = [
      '# The Northern Reach',
      'Frostholm is the capital of the Northern Reach; the Ice Road runs from Frostholm to Pinecross.',
      '# The Sunlit Coast',
      'Saltmere is a harbour town; a ferry links Saltmere and Pinecross.',
    ].join('\n');
    const response = await fetch(`${fleet.apiUrl}/v1/maps?filename=world.md`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/markdown' },
      body: document,
    });
    assert.equal(response.status, 202, await response.clone().text());
    const { jobId } = (await response.json()) as { jobId: string };
    mapJobId = jobId;
    const progress: number[] = [];
    let job: {
      status: string;
      progress: number;
      downloads?: { json?: { url: string }; svg?: { url: string } };
    } = {
      status: 'PENDING',
      progress: 0,
    };
    for (let i = 0; i < 300 && job.status !== 'COMPLETED' && job.status !== 'FAILED'; i++) {
      job = (await call<typeof job>(`${fleet.apiUrl}/v1/jobs/${jobId}`, token)).body;
      progress.push(job.progress);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
    assert.equal(job.progress, 100);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      'progress never goes back',
    );
    const svg = await fetch(job.downloads!.svg!.url);
    assert.equal(svg.status, 200);
    assert.match(await svg.text(), /^(<\?xml[^>]*>\s*)?<svg/);
    const model = (await (await fetch(job.downloads!.json!.url)).json()) as { regions?: unknown[] };
    assert.ok(Array.isArray(model.regions) && model.regions.length > 0, JSON.stringify(model).slice(0, 300));
  });
  test('that map → an export for ue5, unity and godot: progress on the jobs WebSocket, then bundles that verify.js accepts', async () => {
    assert.ok(mapJobId, 'the map test ran first and completed its job');
    const created = await call<{ exportId: string; location: string }>(`${fleet.apiUrl}/v1/exports`, token, {
      method: 'POST',
      headers: { 'idempotency-key': randomUUID() },
      body: { project_id: mapJobId, engines: ['ue5', 'unity', 'godot'], quality: 'low' },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const { exportId } = created.body;
    const live = watch(
      `${fleet.apiUrl.replace('http', 'ws')}/v1/jobs/${exportId}/events?lastSeq=0&access_token=${token}`,
    );
    await live.until(
      (f) => events(f).some((e) => e.type === 'job_completed' || e.type === 'job_failed'),
      90_000,
    );
    await live.closed;
    const all = events(live.frames);
    assert.equal(all[0]!.type, 'job_started', JSON.stringify(all));
    assert.equal(all.at(-1)!.type, 'job_completed', JSON.stringify(all));
    assert.deepEqual(
      all.map((e) => e.seq),
      Array.from({ length: all.length }, (_, i) => i + 1),
      'seq 1, 2, 3 … without gaps or repeats',
    );
    const updates = all.filter((e) => e.type === 'progress_update');
    assert.deepEqual(
      updates.map((e) => e.stage),
      ['prepare', 'load', 'render', 'bundle:godot', 'bundle:ue5', 'bundle:unity'],
      'each stage once, in order (engines in name order)',
    );
    const percents = updates.map((e) => e.progress!);
    assert.deepEqual(
      percents,
      [...percents].sort((a, b) => a - b),
      'progress never goes back',
    );

    const view = await call<{
      status: string;
      progress: number;
      bundles: { engine: string; size: number; sha256: string; url: string }[];
    }>(`${fleet.apiUrl}${created.body.location}`, token);
    assert.equal(view.body.status, 'COMPLETED', JSON.stringify(view.body));
    assert.equal(view.body.progress, 100);
    assert.deepEqual(view.body.bundles.map((b) => b.engine).sort(), ['godot', 'ue5', 'unity']);
    const verify = join(WORKSPACE_ROOT, 'dist/test/exporter/verify.js');
    execFileSync(process.execPath, ['tools/build.mjs', 'apps/exporter/src/verify.ts', verify], {
      cwd: WORKSPACE_ROOT,
      stdio: 'ignore',
    });
    const dir = mkdtempSync(join(tmpdir(), 'e2e-export-'));
    for (const bundle of view.body.bundles) {
      const download = await fetch(bundle.url);
      assert.equal(download.status, 200, bundle.engine);
      const bytes = Buffer.from(await download.arrayBuffer());
      assert.equal(bytes.length, bundle.size);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), bundle.sha256);
      const zip = join(dir, `${bundle.engine}.zip`);
      writeFileSync(zip, bytes);
      // As the README's walkthrough runs it: the keys from the api's public endpoint.
      const output = execFileSync(
        process.execPath,
        [verify, zip, '--keys', `${fleet.apiUrl}/v1/exports/keys`],
        { encoding: 'utf8' },
      );
      assert.match(output, /^OK /, `${bundle.engine}: ${output}`);
    }
  });
});
