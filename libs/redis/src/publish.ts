import { type RedisClient } from './client';
import { LuaScript } from './script';

const PUBLISH_ALL = new LuaScript(
  'publish-all',
  `for i = 1, #ARGV do redis.call('PUBLISH', KEYS[1], ARGV[i]) end
return #ARGV`,
);

/**
 * Publishes each message on `channel` as its own pub/sub message, in order, with one command: a
 * subscriber sees exactly what N `PUBLISH` calls would give it, at the cost of one round trip and
 * one command to encode (a pipeline of N `PUBLISH` costs N).
 */
export async function publishAll(
  client: RedisClient,
  channel: string,
  messages: readonly string[],
): Promise<void> {
  if (messages.length === 0) return;
  await PUBLISH_ALL.run(client, [channel], messages);
}
