import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findBadString } from './input';

describe('findBadString', () => {
  it('finds NUL and lone surrogates anywhere, keys included, and names the path', () => {
    assert.deepEqual(findBadString({ a: ['ok', 'x\u0000'] }), { path: 'body.a[1]', reason: 'NUL character' });
    assert.deepEqual(findBadString({ t: 'a\ud800' }), { path: 'body.t', reason: 'lone UTF-16 surrogate' });
    assert.deepEqual(findBadString({ t: '\udc00b' }), { path: 'body.t', reason: 'lone UTF-16 surrogate' });
    assert.equal(findBadString({ ['k\u0000']: 1 })?.reason, 'NUL character');
  });

  it('accepts well-formed text, surrogate pairs included', () => {
    assert.equal(findBadString({ text: 'olá 😀 \t\n', n: 1, b: null, list: [true] }), undefined);
  });
});
