import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { localScores } from './local-scores';

describe('localScores', () => {
  test('an unremarkable story sits mid-scale', () => {
    assert.deepEqual(
      localScores({ title: 'Quarterly update', content: 'The team shipped a minor release.' }),
      {
        hypeScore: 3,
        ethicsScore: 8,
      },
    );
  });

  test('hype vocabulary raises hype; concern vocabulary lowers the ethics score; both stay in 0–10', () => {
    const hyped = localScores({
      title: 'Revolutionary breakthrough!',
      content: 'An unprecedented, game-changing model raises privacy concerns and surveillance fears!',
    });
    assert.ok(hyped.hypeScore > 3, `${hyped.hypeScore}`);
    assert.ok(hyped.ethicsScore < 8, `${hyped.ethicsScore}`);
    for (const score of [hyped.hypeScore, hyped.ethicsScore]) assert.ok(score >= 0 && score <= 10);
  });

  test('scores are deterministic, with one decimal', () => {
    const story = { title: 'A breakthrough', content: 'privacy '.repeat(3), impactTags: ['bias'] };
    const a = localScores(story);
    assert.deepEqual(localScores(story), a);
    assert.equal(a.hypeScore, Math.round(a.hypeScore * 10) / 10);
  });
});
