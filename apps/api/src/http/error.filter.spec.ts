import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { replyToFrameworkError } from './error.filter';

const app = () => {
  const fastify = Fastify({ frameworkErrors: replyToFrameworkError, maxParamLength: 10 });
  fastify.get('/v1/things/:id', async () => ({ ok: true }));
  return fastify;
};

test('a URL that does not decode is answered 400 in the error format', async () => {
  const response = await app().inject({ method: 'GET', url: '/v1/things/%zz' });
  assert.equal(response.statusCode, 400);
  const body = response.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'BAD_REQUEST');
  assert.match(body.error.message, /not a valid url component/);
});

test('a path parameter over maxParamLength is answered 414 in the error format', async () => {
  const response = await app().inject({ method: 'GET', url: `/v1/things/${'x'.repeat(11)}` });
  assert.equal(response.statusCode, 414);
  const body = response.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'BAD_REQUEST');
  assert.match(body.error.message, /max param length/);
});
