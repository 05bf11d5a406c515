import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpScriptRuleSchema, ruleFromHttp, ScriptBook } from './script';
import { type FakeChannelCall } from './types';

let seq = 0;
function call(overrides: Partial<FakeChannelCall> = {}): FakeChannelCall {
  return {
    seq: ++seq,
    channel: 'whatsapp',
    path: '/v21.0/1/messages',
    to: '+15551234567',
    text: 'hello',
    messageId: 'm',
    channelMessageId: undefined,
    status: undefined,
    body: {},
    scripted: false,
    receivedAt: new Date(0).toISOString(),
    ...overrides,
  };
}

test('"500 twice then succeed": two scripted answers, then no rule applies', () => {
  const book = new ScriptBook();
  book.add({ responses: [{ status: 500 }, { status: 500 }] });
  assert.equal(book.take(call())?.status, 500);
  assert.equal(book.take(call())?.status, 500);
  assert.equal(book.take(call()), undefined);
  assert.equal(book.size, 0);
});

test('repeat-last keeps answering with the last response', () => {
  const book = new ScriptBook();
  book.add({ responses: [{ status: 429, retryAfter: 2 }, { status: 503 }], then: 'repeat-last' });
  assert.deepEqual(
    [1, 2, 3, 4].map(() => book.take(call())?.status),
    [429, 503, 503, 503],
  );
});

test('a rule for one channel or one matcher leaves other calls alone; the first matching rule wins', () => {
  const book = new ScriptBook();
  book.add({ channel: 'instagram', responses: [{ status: 400 }] });
  book.add({ match: (c) => c.to === '+15550000000', responses: [{ status: 401 }] });
  book.add({ responses: [{ status: 503 }], then: 'repeat-last' });
  assert.equal(book.take(call({ channel: 'instagram' }))?.status, 400);
  assert.equal(book.take(call({ to: '+15550000000' }))?.status, 401);
  assert.equal(book.take(call())?.status, 503);
});

test('a matcher that throws counts as no match instead of breaking the fake', () => {
  const book = new ScriptBook();
  book.add({
    match: () => {
      throw new Error('bug in test');
    },
    responses: [{ status: 500 }],
  });
  assert.equal(book.take(call()), undefined);
});

test('a rule without responses or with an impossible status is refused when added', () => {
  const book = new ScriptBook();
  assert.throws(() => book.add({ responses: [] }), RangeError);
  assert.throws(() => book.add({ responses: [{ status: 99 }] }));
});

test('a JSON rule matches on recipient and text substring', () => {
  const parsed = httpScriptRuleSchema.parse({
    channel: 'whatsapp',
    to: '+15551234567',
    textContains: 'boom',
    responses: [{ status: 500 }],
    then: 'repeat-last',
  });
  const book = new ScriptBook();
  book.add(ruleFromHttp(parsed));
  assert.equal(book.take(call({ text: 'all fine' })), undefined);
  assert.equal(book.take(call({ to: '+15559999999', text: 'boom' })), undefined);
  assert.equal(book.take(call({ text: 'going boom now' }))?.status, 500);
});

test('a JSON rule with unknown fields or no responses is invalid', () => {
  assert.equal(httpScriptRuleSchema.safeParse({ responses: [] }).success, false);
  assert.equal(httpScriptRuleSchema.safeParse({ responses: [{ status: 500 }], match: 'x' }).success, false);
  assert.equal(httpScriptRuleSchema.safeParse({ responses: [{ status: 500, delay: 3 }] }).success, false);
});
