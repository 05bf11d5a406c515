import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { answerSubscriptionChallenge, signWebhookBody, verifyWebhookSignature } from './webhook-signature';

const SECRET = 'app-secret';
const BODY = Buffer.from('{"object":"instagram","entry":[{"id":"1","time":1,"messaging":[]}]}');

describe('webhook signatures', () => {
  test('the signature is sha256= and the hex HMAC-SHA256 of the raw body', () => {
    const expected = createHmac('sha256', SECRET).update(BODY).digest('hex');
    assert.equal(signWebhookBody(BODY, SECRET), `sha256=${expected}`);
    assert.equal(signWebhookBody(BODY.toString('utf8'), SECRET), `sha256=${expected}`);
  });

  test('a body signed with the app secret verifies, also with an upper-case hex header', () => {
    const header = signWebhookBody(BODY, SECRET);
    assert.equal(verifyWebhookSignature(BODY, header, SECRET), true);
    assert.equal(verifyWebhookSignature(BODY, `sha256=${header.slice(7).toUpperCase()}`, SECRET), true);
  });

  test('a tampered body, another secret or a re-serialised body does not verify', () => {
    const header = signWebhookBody(BODY, SECRET);
    const tampered = Buffer.from(BODY.toString().replace('"1"', '"2"'));
    assert.equal(verifyWebhookSignature(tampered, header, SECRET), false);
    assert.equal(verifyWebhookSignature(BODY, header, 'other-secret'), false);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(BODY.toString()), null, 1));
    assert.equal(verifyWebhookSignature(reserialised, header, SECRET), false);
  });

  test('a missing or malformed header is refused without throwing', () => {
    const hex = signWebhookBody(BODY, SECRET).slice(7);
    const headers: Array<string | undefined> = [
      undefined,
      '',
      hex,
      `sha1=${hex}`,
      `sha256=${hex.slice(2)}`,
      `sha256=${hex}00`,
      `sha256=${'z'.repeat(64)}`,
      'sha256=',
    ];
    for (const header of headers) {
      assert.equal(verifyWebhookSignature(BODY, header, SECRET), false, `header ${JSON.stringify(header)}`);
    }
    assert.equal(
      verifyWebhookSignature(BODY, [signWebhookBody(BODY, SECRET)] as unknown as string, SECRET),
      false,
    );
  });

  test('an empty app secret accepts nothing, even a body signed with the empty secret', () => {
    assert.equal(verifyWebhookSignature(BODY, signWebhookBody(BODY, ''), ''), false);
  });
});

describe('subscription challenge', () => {
  const query = { 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': '1158201444' };

  test('subscribe with the right token is answered with the challenge', () => {
    assert.equal(answerSubscriptionChallenge(query, 'verify-me'), '1158201444');
  });

  test('a nested query (qs-style parsers) is read too', () => {
    const nested = { hub: { mode: 'subscribe', verify_token: 'verify-me', challenge: 'abc' } };
    assert.equal(answerSubscriptionChallenge(nested, 'verify-me'), 'abc');
  });

  test('a wrong token, another mode, or missing fields get no answer', () => {
    assert.equal(answerSubscriptionChallenge(query, 'other'), undefined);
    assert.equal(
      answerSubscriptionChallenge({ ...query, 'hub.mode': 'unsubscribe' }, 'verify-me'),
      undefined,
    );
    assert.equal(
      answerSubscriptionChallenge({ ...query, 'hub.challenge': undefined }, 'verify-me'),
      undefined,
    );
    assert.equal(answerSubscriptionChallenge({ ...query, 'hub.challenge': '' }, 'verify-me'), undefined);
    assert.equal(
      answerSubscriptionChallenge({ ...query, 'hub.verify_token': ['verify-me'] }, 'verify-me'),
      undefined,
    );
    assert.equal(answerSubscriptionChallenge({}, 'verify-me'), undefined);
  });

  test('an empty configured verify token never matches', () => {
    assert.equal(answerSubscriptionChallenge({ ...query, 'hub.verify_token': '' }, ''), undefined);
  });
});
