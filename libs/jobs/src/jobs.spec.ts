import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JOB_STATUSES } from '@fleet/contracts';
import { JOB_STATUSES_AT_CREATION, JobError, jobPlatformEnv, parseJobEvent } from './index';

describe('jobs lib (no I/O)', () => {
  test("the table's status check allows exactly the contract's statuses (a new status needs a migration)", () => {
    assert.deepEqual([...JOB_STATUSES_AT_CREATION], [...JOB_STATUSES]);
  });

  test('parseJobEvent accepts a contract event and names what is wrong with others', () => {
    const event = {
      type: 'progress_update',
      jobId: '6f1c2a52-3f7e-4d7a-9b1e-2a7c0c1d9e10',
      kind: 'story_enhancement',
      seq: 3,
      progress: 40,
      stage: 'layout',
      at: '2025-01-15T10:00:00.000Z',
    };
    assert.deepEqual(parseJobEvent(JSON.stringify(event)), event);
    const invalid = (raw: string, pattern: RegExp) =>
      assert.throws(
        () => parseJobEvent(raw),
        (error: unknown) =>
          error instanceof JobError && error.code === 'JOB_EVENT_INVALID' && pattern.test(error.message),
      );
    invalid('{not json', /not JSON/);
    invalid(JSON.stringify({ ...event, seq: 0 }), /seq/);
    invalid(JSON.stringify({ ...event, progress: 101 }), /progress/);
    invalid(JSON.stringify({ ...event, extra: true }), /extra/);
  });

  test("the env schema gives the seeds' defaults and reads durations with units", () => {
    assert.deepEqual(jobPlatformEnv.parse({}), {
      JOB_LEASE_MS: 30_000,
      JOB_MAX_ATTEMPTS: 3,
      JOB_REAPER_INTERVAL_MS: 15_000,
      JOB_STUCK_AFTER_MS: 1_800_000,
      JOB_KEEP_COMPLETED: 100,
      JOB_KEEP_FAILED: 50,
      JOB_EVENTS_STREAM_MAX_LEN: 1000,
      JOB_EVENTS_TTL_MS: 86_400_000,
      JOB_EVENTS_FINISHED_TTL_MS: 3_600_000,
    });
    const parsed = jobPlatformEnv.parse({
      JOB_LEASE_MS: '10s',
      JOB_STUCK_AFTER_MS: '45m',
      JOB_KEEP_FAILED: '0',
    });
    assert.equal(parsed.JOB_LEASE_MS, 10_000);
    assert.equal(parsed.JOB_STUCK_AFTER_MS, 2_700_000);
    assert.equal(parsed.JOB_KEEP_FAILED, 0);
    assert.equal(jobPlatformEnv.safeParse({ JOB_MAX_ATTEMPTS: '0' }).success, false);
    assert.equal(jobPlatformEnv.safeParse({ JOB_LEASE_MS: 'soon' }).success, false);
  });
});
