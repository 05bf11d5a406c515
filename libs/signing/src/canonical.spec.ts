import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from './canonical';

describe('canonicalJson (RFC 8785 JCS)', () => {
  test('the RFC 8785 §3.2.2 example: whitespace, key order, numbers and string escapes', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    assert.equal(canonicalJson(JSON.parse(input)), expected);
  });

  test('the RFC 8785 §3.2.3 sorting example: keys by UTF-16 code units, nested objects too', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const expected =
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
      '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}';
    assert.equal(canonicalJson(input), expected);
    assert.equal(
      canonicalJson({ b: { d: 1, c: [{ z: 1, y: 2 }] }, a: 0 }),
      '{"a":0,"b":{"c":[{"y":2,"z":1}],"d":1}}',
    );
  });

  test('numbers in ECMAScript shortest form (RFC 8785 appendix B)', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '0'],
      [1e21, '1e+21'],
      [1e20, '100000000000000000000'],
      [9007199254740991, '9007199254740991'],
      [5e-324, '5e-324'],
      [-1.7976931348623157e308, '-1.7976931348623157e+308'],
      [0.1 + 0.2, '0.30000000000000004'],
      [1.5e-7, '1.5e-7'],
    ];
    for (const [value, json] of cases) assert.equal(canonicalJson([value]), `[${json}]`, String(value));
  });

  test('unicode is written as is, only controls, quote and backslash escaped', () => {
    assert.equal(canonicalJson({ name: 'Ünïcødé 😀 \u2028 \u0007' }), '{"name":"Ünïcødé 😀 \u2028 \\u0007"}');
  });

  test('toJSON is followed: a Date is its ISO string', () => {
    assert.equal(canonicalJson({ at: new Date(0) }), '{"at":"1970-01-01T00:00:00.000Z"}');
  });

  test('undefined, functions, bigints and non-finite numbers throw naming where they are', () => {
    assert.throws(() => canonicalJson(undefined), /\$ is undefined/);
    assert.throws(() => canonicalJson({ a: { b: undefined } }), /\$\.a\.b is undefined/);
    assert.throws(() => canonicalJson([1, undefined]), /\$\[1\] is undefined/);
    assert.throws(() => canonicalJson({ f: () => 1 }), /\$\.f is function/);
    assert.throws(() => canonicalJson({ n: 1n }), /\$\.n is bigint/);
    assert.throws(() => canonicalJson({ n: NaN }), /\$\.n is NaN/);
    assert.throws(() => canonicalJson([Infinity]), /\$\[0\] is Infinity/);
  });

  test('cycles and lone surrogates throw', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => canonicalJson(cyclic), /circular/);
    assert.throws(() => canonicalJson({ s: '\ud800' }), /surrogate/i);
  });

  test('a shared, non-circular object is fine', () => {
    const shared = { x: 1 };
    assert.equal(canonicalJson({ a: shared, b: shared }), '{"a":{"x":1},"b":{"x":1}}');
  });
});
