import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busyMsWithin, type BusyInterval } from './busy';

const interval = (startMs: number, endMs: number | undefined, seq = 1): BusyInterval => ({
  seq,
  kind: 'generate',
  startMs,
  endMs,
});

describe('busyMsWithin', () => {
  it('sums the intervals inside the window', () => {
    assert.equal(busyMsWithin([interval(0, 100), interval(150, 250)], 0, 300, 1_000), 200);
  });

  it('clips intervals to the window', () => {
    assert.equal(busyMsWithin([interval(0, 100), interval(150, 250)], 50, 200, 1_000), 100);
  });

  it('counts a running interval up to now', () => {
    assert.equal(busyMsWithin([interval(100, undefined)], 0, 1_000, 400), 300);
  });

  it('never counts overlapping time twice', () => {
    assert.equal(busyMsWithin([interval(0, 100), interval(50, 150), interval(60, 70)], 0, 1_000, 0), 150);
  });

  it('is zero for an empty or inverted window', () => {
    assert.equal(busyMsWithin([interval(0, 100)], 200, 300, 0), 0);
    assert.equal(busyMsWithin([interval(0, 100)], 80, 20, 0), 0);
  });
});
