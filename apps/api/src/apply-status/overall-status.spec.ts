import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { advances, overallStatus } from './overall-status';

describe('advances', () => {
  it('moves forward only', () => {
    assert.equal(advances('PENDING', 'SENT'), true);
    assert.equal(advances('SENT', 'READ'), true);
    assert.equal(advances('DELIVERED', 'SENT'), false);
    assert.equal(advances('SENT', 'SENT'), false);
  });

  it('a FAILED channel stays FAILED, and any channel may fail', () => {
    assert.equal(advances('FAILED', 'READ'), false);
    assert.equal(advances('FAILED', 'FAILED'), false);
    assert.equal(advances('DELIVERED', 'FAILED'), true);
  });

  it("leaves FAILED only for a redrive's SENT", () => {
    assert.equal(advances('FAILED', 'SENT', true), true);
    assert.equal(advances('FAILED', 'DELIVERED', true), false);
    assert.equal(advances('FAILED', 'FAILED', true), false);
    assert.equal(advances('SENT', 'SENT', true), false);
  });
});

describe('overallStatus', () => {
  it('is the least advanced channel that did not fail', () => {
    assert.equal(overallStatus(['READ', 'SENT']), 'SENT');
    assert.equal(overallStatus(['READ', 'FAILED']), 'READ');
    assert.equal(overallStatus(['PENDING', 'DELIVERED']), 'PENDING');
  });

  it('is FAILED only when every channel failed', () => {
    assert.equal(overallStatus(['FAILED', 'FAILED']), 'FAILED');
    assert.equal(overallStatus(['FAILED']), 'FAILED');
  });
});
