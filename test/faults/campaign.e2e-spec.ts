/**
 * The fault campaign's short, deterministic variant (issue 21), part of `npm test`: the fleet with
 * two replicas of each worker under the mixed workload, a broker SIGKILL (F1), a worker killed
 * between its effect and its commit (F2), a PostgreSQL crash (F5), poison records (F7) and a
 * replayed topic range (F8), once each in a seeded order; then the independent checker
 * (tools/faults/checker.ts) reads the outcome. The full campaign is `npm run faults`.
 *
 * It crashes and restarts the shared local servers itself (tools/infra crash / up), which is why
 * it runs in the e2e tier, where files run one at a time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCampaign } from '../../tools/faults/campaign';

describe('fault campaign, short variant (F1 F2 F5 F7 F8, seed 21)', () => {
  test('nothing acknowledged lost, no effect twice, per-conversation order kept, every fault recovered from', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'faults-short-'));
    const result = await runCampaign({
      seed: 21,
      minutes: 0,
      kinds: ['F1', 'F2', 'F5', 'F7', 'F8'],
      repeat: 1,
      outDir,
      settleSeconds: 150,
      conversations: 6,
      log: (line) => console.log(`[faults] ${line}`),
    });
    assert.deepEqual(
      result.faults.map((f) => f.kind).sort(),
      ['F1', 'F2', 'F5', 'F7', 'F8'],
      'each kind injected once',
    );
    for (const fault of result.faults) {
      assert.doesNotMatch(fault.detail, /INJECTION FAILED/, `${fault.kind}: ${fault.detail}`);
      assert.ok(fault.recoveryMs !== undefined, `${fault.kind}: a chat message got through after it healed`);
    }
    const flows = new Map(result.verdict.flows.map((f) => [f.flow, f]));
    for (const flow of ['chat', 'upload', 'story', 'export', 'poison']) {
      assert.ok((flows.get(flow)?.acknowledged ?? 0) > 0, `some ${flow} requests acknowledged`);
    }
    assert.deepEqual(result.workload.refused, [], 'no valid request refused with a 4xx');
    assert.deepEqual(result.crashed, [], 'no replica exited by itself');
    for (const f of result.verdict.flows) {
      assert.deepEqual(f.lost, [], `${f.flow}: nothing lost`);
      assert.deepEqual(f.duplicates, [], `${f.flow}: no duplicate effect`);
      assert.deepEqual(f.orderViolations, [], `${f.flow}: order kept`);
      assert.deepEqual(f.stuck, [], `${f.flow}: nothing stuck`);
    }
    assert.equal(result.verdict.reasonless, 0, 'every dead letter has a reason');
    assert.ok(result.verdict.ok);
  });
});
