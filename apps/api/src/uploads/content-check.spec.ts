import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkContent, textProblem } from './content-check';

const pdf = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n', 'latin1');
const png = Buffer.from(
  '89504e470d0a1a0a' +
    '0000000d49484452' +
    '00000001000000010802000000' +
    '907753de' +
    '00001000' +
    '49444154',
  'hex',
);
const zip = Buffer.concat([Buffer.from('504b0304140000000800', 'hex'), Buffer.alloc(40, 0x41)]);

describe('checkContent (chunk 0 against the declared type)', () => {
  it('accepts bytes of the declared binary type', async () => {
    assert.deepEqual(await checkContent('application/pdf', pdf, false), {
      ok: true,
      detected: 'application/pdf',
    });
    assert.equal((await checkContent('image/png', png, true)).ok, true);
  });

  it('refuses bytes of another type, naming both', async () => {
    assert.deepEqual(await checkContent('image/png', pdf, false), {
      ok: false,
      detected: 'application/pdf',
      reason: 'declared image/png but the bytes are application/pdf',
    });
  });

  it('refuses a binary type whose signature is absent', async () => {
    const verdict = await checkContent('application/zip', Buffer.from('just some text'), false);
    assert.equal(verdict.ok, false);
    assert.match(verdict.ok ? '' : verdict.reason, /no known file signature/);
  });

  it('judges text types as UTF-8 text: parameters ignored, binary formats and NUL refused', async () => {
    assert.equal(
      (await checkContent('text/plain; charset=utf-8', Buffer.from('olá, 世界 😀\n'), false)).ok,
      true,
    );
    assert.equal((await checkContent('text/csv', Buffer.from('a,b\n1,2\n'), false)).ok, true);
    const asText = await checkContent('text/markdown', pdf, false);
    assert.deepEqual(asText, {
      ok: false,
      detected: 'application/pdf',
      reason: 'declared text/markdown but the bytes are application/pdf',
    });
    const nul = await checkContent('text/plain', Buffer.from('a\u0000b'), false);
    assert.equal(
      nul.ok ? '' : nul.reason,
      'declared text/plain but the bytes are not UTF-8 text: NUL byte at offset 1',
    );
  });

  it('accepts anything for a type the detector does not know (an operator-allowed octet-stream)', async () => {
    assert.equal((await checkContent('application/octet-stream', zip, false)).ok, true);
  });

  it('an empty head is no file of a binary type', async () => {
    assert.equal((await checkContent('image/png', Buffer.alloc(0), false)).ok, false);
  });
});

describe('textProblem', () => {
  const smile = Buffer.from('😀'); // 4 bytes

  it('a character cut at the end of a truncated head is fine; in a complete chunk it is invalid', () => {
    const cut = Buffer.concat([Buffer.from('ok '), smile.subarray(0, 2)]);
    assert.equal(textProblem(cut, true), undefined);
    assert.equal(textProblem(cut, false), 'invalid UTF-8');
  });

  it('invalid sequences anywhere else are refused even when truncated', () => {
    assert.equal(textProblem(Buffer.from([0x61, 0xff, 0x62]), true), 'invalid UTF-8');
    assert.equal(textProblem(Buffer.from([0x61, 0xc3]), false), 'invalid UTF-8');
  });
});
