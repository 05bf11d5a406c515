import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { type IncomingMessage } from 'node:http';
import { type Duplex } from 'node:stream';
import { test } from 'node:test';
import { type HttpAdapterHost } from '@nestjs/core';
import { type Logger } from '@fleet/observability';
import { WebSocketUpgrades } from './websocket-upgrades';

/** An upgrade request for `url` through the dispatcher; resolves to what was written back. */
function upgrade(url: string, handled: string[]): string {
  const server = new EventEmitter();
  const adapterHost = { httpAdapter: { getHttpServer: () => server } } as unknown as HttpAdapterHost;
  const logger = { error: () => undefined } as unknown as Logger;
  const upgrades = new WebSocketUpgrades(adapterHost, logger);
  upgrades.route(/^\/v1\/things\/([^/]+)\/events$/, async (_request, _socket, _head, _url, match) => {
    handled.push(decodeURIComponent(match[1]!));
  });
  upgrades.onApplicationBootstrap();
  let written = '';
  const socket = { writable: true, end: (data: string) => (written += data) } as unknown as Duplex;
  server.emit('upgrade', { url } as IncomingMessage, socket, Buffer.alloc(0));
  return written;
}

test('an upgrade whose path does not percent-decode is answered 400 in the error format, not 500', () => {
  const handled: string[] = [];
  const written = upgrade('/v1/things/%zz/events', handled);
  assert.match(written, /^HTTP\/1\.1 400 /);
  assert.match(written, /"code":"BAD_REQUEST"/);
  assert.deepEqual(handled, []);
});

test('an upgrade whose path decodes reaches its route', () => {
  const handled: string[] = [];
  assert.equal(upgrade('/v1/things/a%20b/events', handled), '');
  assert.deepEqual(handled, ['a b']);
});
