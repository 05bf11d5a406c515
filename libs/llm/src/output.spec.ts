import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { parseStructuredOutput } from './output';

const Scores = z.object({ hypeScore: z.number().min(0).max(10), eli5Summary: z.string().min(1) });
const valid = '{"hypeScore": 7.5, "eli5Summary": "A robot learned to read."}';

describe('parseStructuredOutput', () => {
  it('returns the parsed value of a complete, matching answer', () => {
    const out = parseStructuredOutput({ content: valid, finishReason: 'stop' }, Scores);
    assert.deepEqual(out, { ok: true, value: { hypeScore: 7.5, eli5Summary: 'A robot learned to read.' } });
  });

  it('takes one Markdown fence off the answer', () => {
    const out = parseStructuredOutput(
      { content: `\`\`\`json\n${valid}\n\`\`\``, finishReason: 'stop' },
      Scores,
    );
    assert.equal(out.ok, true);
  });

  it('reports text that is not JSON as invalid_json with the parse error and an excerpt', () => {
    const out = parseStructuredOutput({ content: 'Sure! Here you go: {"hype', finishReason: 'stop' }, Scores);
    assert.equal(out.ok, false);
    if (out.ok) return;
    assert.equal(out.reason, 'invalid_json');
    assert.match(out.detail, /^not JSON: /);
    assert.equal(out.excerpt, 'Sure! Here you go: {"hype');
  });

  it('reports JSON of the wrong shape as schema_mismatch naming the field', () => {
    const out = parseStructuredOutput(
      { content: '{"hypeScore": 12, "eli5Summary": "x"}', finishReason: 'stop' },
      Scores,
    );
    assert.equal(out.ok, false);
    if (out.ok) return;
    assert.equal(out.reason, 'schema_mismatch');
    assert.match(out.detail, /hypeScore/);
  });

  it('reports finish_reason length as truncated even when the cut left valid JSON', () => {
    const out = parseStructuredOutput({ content: valid, finishReason: 'length' }, Scores);
    assert.equal(out.ok, false);
    if (!out.ok) assert.equal(out.reason, 'truncated');
  });

  it('reports a refusal and a filtered answer as refusal', () => {
    const refused = parseStructuredOutput(
      { content: null, finishReason: 'stop', refusal: 'I cannot help' },
      Scores,
    );
    const filtered = parseStructuredOutput({ content: '', finishReason: 'content_filter' }, Scores);
    assert.deepEqual([refused.ok, !refused.ok && refused.reason], [false, 'refusal']);
    assert.deepEqual([filtered.ok, !filtered.ok && filtered.reason], [false, 'refusal']);
  });

  it('reports a missing or blank content as empty', () => {
    const out = parseStructuredOutput({ content: '   ', finishReason: 'stop' }, Scores);
    assert.deepEqual([out.ok, !out.ok && out.reason], [false, 'empty']);
  });

  it('cuts long excerpts', () => {
    const out = parseStructuredOutput({ content: 'x'.repeat(1000), finishReason: 'stop' }, Scores);
    assert.equal(out.ok, false);
    if (!out.ok) assert.equal(out.excerpt.length, 201);
  });
});
