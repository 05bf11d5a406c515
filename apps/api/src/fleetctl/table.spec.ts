import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatFields, formatTable, shortTime } from './table';

describe('formatTable', () => {
  test('columns are as wide as their widest cell, two spaces apart, numbers right-aligned, no trailing spaces', () => {
    const out = formatTable(
      [
        { name: 'api-status', lag: 7 },
        { name: 'message-router', lag: 1234 },
      ],
      [
        { header: 'GROUP', value: (r) => r.name },
        { header: 'LAG', value: (r) => r.lag, align: 'right' },
      ],
    );
    assert.equal(
      out,
      ['GROUP            LAG', 'api-status         7', 'message-router  1234', ''].join('\n'),
    );
  });

  test('empty values print as "-" so the columns stay in place; whitespace in a cell becomes one space', () => {
    const out = formatTable(
      [{ a: null, b: 'two\nlines', c: '' }],
      [
        { header: 'A', value: (r) => r.a },
        { header: 'B', value: (r) => r.b },
        { header: 'C', value: (r) => r.c },
      ],
    );
    assert.equal(out, 'A  B          C\n-  two lines  -\n');
  });

  test('a cell past maxWidth is cut with an ellipsis, counted in characters not bytes', () => {
    const out = formatTable(
      [{ key: 'ééééééééé-long' }],
      [{ header: 'KEY', value: (r) => r.key, maxWidth: 6 }],
    );
    assert.equal(out, 'KEY\nééééé…\n');
  });

  test('no rows: the header alone', () => {
    assert.equal(formatTable([], [{ header: 'ID', value: () => 'x' }]), 'ID\n');
  });
});

describe('formatFields and shortTime', () => {
  test('names padded to one width', () => {
    assert.equal(
      formatFields([
        ['id', 'abc'],
        ['status', null],
      ]),
      'id:     abc\nstatus: -\n',
    );
  });

  test('times in UTC to the second; missing ones as "-"; unparseable ones as given', () => {
    assert.equal(shortTime('2026-12-07T15:42:25.987Z'), '2026-12-07 15:42:25');
    assert.equal(shortTime(null), '-');
    assert.equal(shortTime('soon'), 'soon');
  });
});
