/**
 * The fault kinds of the campaign (issue 21: F1 … F14). Each `inject` breaks something real —
 * a server of tools/infra, an app process, a link through Toxiproxy, a third party's fake — waits
 * while the workload runs into it, and heals it; it resolves with what it did.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { Client as PgClient } from 'pg';
import { request } from 'undici';
import type { FakeChannelServer } from '@fleet/channels/testing';
import type { FakeLlmServer } from '@fleet/llm/testing';
import { AppProcess } from '@fleet/service-kit/testing';
import type { ChatFleet } from '../../test/chat/harness';
import { type Ack } from './checker';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const FAULT_KINDS = [
  'F1',
  'F2',
  'F3',
  'F4',
  'F5',
  'F6',
  'F7',
  'F8',
  'F9',
  'F10',
  'F11',
  'F12',
  'F13',
  'F14',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_NAMES: Record<FaultKind, string> = {
  F1: 'broker SIGKILL mid-produce',
  F2: 'worker SIGKILL after its effect, before its commit',
  F3: 'consumer paused (SIGSTOP) past its session timeout, then resumed (zombie)',
  F4: 'rebalance storm (replicas added and removed every few seconds)',
  F5: 'PostgreSQL crash (pg_ctl stop -m immediate)',
  F6: 'Redis killed while the Kafka breaker is open',
  F7: 'poison records among good ones',
  F8: 'duplicate replay of a whole topic range',
  F9: 'long-open transaction around an outbox write',
  F10: 'LLM hanging, answering garbage or truncating',
  F11: 'channel API down, slow or rate-limiting',
  F12: 'MinIO down mid-compose',
  F13: 'partition / latency between one app and Kafka or PostgreSQL (Toxiproxy)',
  F14: 'clock skew on one worker (libfaketime)',
};

export interface FaultRecord {
  kind: FaultKind;
  variant: string;
  startedAt: number;
  healedAt: number;
  /** From healed until a chat message sent then reached the channel; undefined: not measured. */
  recoveryMs?: number;
  detail: string;
}

/** Where the runner keeps what faults need. */
export interface FaultContext {
  root: string;
  fleet: ChatFleet;
  llm: FakeLlmServer;
  fake: FakeChannelServer;
  brokers: string[];
  databaseUrl: string;
  /** Seeded random number in [0, 1). */
  random: () => number;
  ack(entry: Ack): void;
  /** The channel answers slowly while this is true (F2 keeps calls in flight). */
  channel: { slowMs: number; status?: number; retryAfter?: number };
  toxiproxy?: Toxiproxy;
  /** Env of the replica routed through Toxiproxy (F13), if one runs. */
  proxiedRouter?: AppProcess;
  fakeTimeLib?: string;
  /** F2 kills routers only (a mutant run: the broken code is the router's). */
  routersOnly?: boolean;
  log(line: string): void;
}

function pick<T>(ctx: FaultContext, items: readonly T[]): T {
  return items[Math.floor(ctx.random() * items.length)]!;
}

async function infra(ctx: FaultContext, ...args: string[]): Promise<void> {
  await run('bash', ['tools/infra', ...args], { cwd: ctx.root, maxBuffer: 16 * 1024 * 1024 });
}

async function crashAndRestart(ctx: FaultContext, server: string, downMs: number): Promise<string> {
  await infra(ctx, 'crash', server);
  await sleep(downMs);
  const started = Date.now();
  await infra(ctx, 'up', server);
  return `${server} down ${downMs} ms, up again in ${Date.now() - started} ms`;
}

/** The worker replicas the campaign may kill, pause or churn: never the api (it has no peers). */
/** Whether a replica is still running (one that exited by itself is reported by the runner). */
export const alive = (p: AppProcess) => p.child.exitCode === null && p.child.signalCode === null;

function workers(ctx: FaultContext): { app: string; list: AppProcess[] }[] {
  const f = ctx.fleet;
  return [
    { app: 'message-router', list: f.routers.filter((r) => r !== ctx.proxiedRouter) },
    { app: 'outbox-poller', list: f.pollers },
    { app: 'file-merge', list: f.fileMerge },
    { app: 'generation', list: f.generation },
    { app: 'exporter', list: f.exporters },
  ].filter((w) => w.list.length > 0);
}

/** SIGKILLs one replica and starts its replacement, as a Deployment would. */
async function killAndReplace(
  ctx: FaultContext,
  app: string,
  list: AppProcess[],
  victim: AppProcess,
): Promise<void> {
  await victim.stop('SIGKILL');
  list.splice(list.indexOf(victim), 1);
  await ctx.fleet.startReplica(app);
}

async function f2(ctx: FaultContext): Promise<string> {
  const { app, list } = pick(
    ctx,
    workers(ctx).filter((w) => !ctx.routersOnly || w.app === 'message-router'),
  );
  const victim = pick(ctx, list.filter(alive));
  if (app === 'message-router') {
    // Slow answers keep calls in flight: the kill lands after the channel took a message and
    // before the router recorded it (the effect done, its commit not).
    ctx.channel.slowMs = 800;
    const before = ctx.fake.calls.length;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !ctx.fake.calls.slice(before).some((c) => c.status === undefined))
      await sleep(20);
    await killAndReplace(ctx, app, list, victim);
    ctx.channel.slowMs = 0;
    return `${app} pid ${victim.child.pid} SIGKILLed with a channel call in flight, replaced`;
  }
  await sleep(500 + Math.floor(ctx.random() * 2_000));
  await killAndReplace(ctx, app, list, victim);
  return `${app} pid ${victim.child.pid} SIGKILLed mid-work, replaced`;
}

async function f3(ctx: FaultContext): Promise<string> {
  const { app, list } = pick(
    ctx,
    workers(ctx).filter((w) => w.app !== 'outbox-poller'),
  );
  const victim = pick(ctx, list.filter(alive));
  const pid = victim.child.pid!;
  process.kill(pid, 'SIGSTOP');
  // Past the session timeout (campaign routers: 6 s; the others 10 s by default) and a rebalance.
  const pausedMs = 16_000;
  await sleep(pausedMs);
  process.kill(pid, 'SIGCONT');
  await sleep(3_000);
  return `${app} pid ${pid} stopped ${pausedMs} ms, resumed as a zombie (its partitions had moved)`;
}

async function f4(ctx: FaultContext): Promise<string> {
  // Members join and leave every 2–4 s, without waiting for each other to be ready: the group
  // rebalances again and again while the fleet's own replicas keep working.
  const app = pick(ctx, ['message-router', 'file-merge', 'generation', 'exporter']);
  const env = ctx.fleet.envOf(app);
  const extra: AppProcess[] = [];
  const leaving: Promise<unknown>[] = [];
  let joins = 0;
  let leaves = 0;
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    if (extra.length < 3 && (extra.length === 0 || ctx.random() < 0.6)) {
      extra.push(await AppProcess.start({ app, env }));
      joins++;
    } else {
      leaving.push(extra.shift()!.stop('SIGTERM'));
      leaves++;
    }
    await sleep(2_000 + Math.floor(ctx.random() * 2_000));
  }
  leaving.push(...extra.map((p) => p.stop('SIGTERM')));
  await Promise.allSettled(leaving);
  return `${app}: ${joins} joins and ${joins} leaves in 20 s (${leaves} mid-storm)`;
}

async function f6(ctx: FaultContext): Promise<string> {
  // Kafka down first: the producers' breakers open within seconds; then Redis dies under them.
  await infra(ctx, 'crash', 'kafka');
  await sleep(6_000);
  await infra(ctx, 'crash', 'redis');
  await sleep(5_000);
  await infra(ctx, 'up', 'redis');
  await sleep(2_000);
  await infra(ctx, 'up', 'kafka');
  return 'kafka crashed; 6 s later (breakers open) redis crashed for 5 s; redis, then kafka restarted';
}

const POISON_TOPICS = [
  'chat.message.outgoing.1',
  'upload.merge.requested.1',
  'generation.job.requested.1',
  'export.callback.requested.1',
];

async function f7(ctx: FaultContext): Promise<string> {
  const kafka = new Kafka({ clientId: 'faults-poison', brokers: ctx.brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let n = 0;
  try {
    for (const base of POISON_TOPICS) {
      const topic = `${ctx.fleet.namespace}.${base}`;
      const shapes: Array<(id: string) => { value: string; headers: IHeaders }> = [
        (id) => ({ value: `not json ${id}`, headers: { 'x-event-id': id } }),
        (id) => ({
          value: JSON.stringify({ poison: id, messageId: 42, text: ['x'] }),
          headers: { 'x-event-id': id },
        }),
        (id) => ({
          value: JSON.stringify({ poison: id }),
          headers: { 'x-event-id': id, traceparent: 'garbage' },
        }),
      ];
      for (const shape of shapes) {
        const id = randomUUID();
        const { value, headers } = shape(id);
        await producer.send({ topic, acks: -1, messages: [{ key: `poison-${id}`, value, headers }] });
        ctx.ack({ flow: 'poison', id, topic, at: Date.now() });
        n++;
      }
    }
  } finally {
    await producer.disconnect();
  }
  return `${n} poison records on ${POISON_TOPICS.length} topics`;
}

async function f8(ctx: FaultContext): Promise<string> {
  // The last records of each topic read back and produced again unchanged (key, value, headers),
  // as a replay of a whole offset range would (a consumer reset, a mirror re-sync).
  const kafka = new Kafka({ clientId: 'faults-replay', brokers: ctx.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ranges: { topic: string; partition: number; from: number; to: number }[] = [];
  for (const base of [
    'chat.message.outgoing.1',
    'upload.merge.requested.1',
    'generation.job.requested.1',
    'export.job.requested.1',
    'export.callback.requested.1',
  ]) {
    const topic = `${ctx.fleet.namespace}.${base}`;
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const high = Number(p.high);
      const low = Number(p.low);
      if (high > low)
        ranges.push({ topic, partition: p.partition, from: Math.max(low, high - 40), to: high });
    }
  }
  await admin.disconnect();
  const total = ranges.reduce((sum, r) => sum + r.to - r.from, 0);
  if (total === 0) return 'nothing to replay yet';
  const consumer = kafka.consumer({ groupId: `faults-replay-${randomUUID()}` });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([consumer.connect(), producer.connect()]);
  const copies: {
    topic: string;
    partition: number;
    key: Buffer | null;
    value: Buffer | null;
    headers: IHeaders;
  }[] = [];
  try {
    await consumer.subscribe({ topics: [...new Set(ranges.map((r) => r.topic))] });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`replay: read ${copies.length} of ${total} in 60 s`)),
        60_000,
      );
      consumer
        .run({
          eachMessage: async ({ topic, partition, message }) => {
            const range = ranges.find((r) => r.topic === topic && r.partition === partition);
            const offset = Number(message.offset);
            if (!range || offset < range.from || offset >= range.to) return;
            copies.push({
              topic,
              partition,
              key: message.key,
              value: message.value,
              headers: message.headers ?? {},
            });
            if (copies.length >= total) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const r of ranges)
        consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.from) });
    });
    await done;
    for (const copy of copies) {
      await producer.send({
        topic: copy.topic,
        acks: -1,
        messages: [{ partition: copy.partition, key: copy.key, value: copy.value, headers: copy.headers }],
      });
    }
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
  }
  return `${copies.length} records of ${ranges.length} partitions produced again`;
}

async function f9(ctx: FaultContext): Promise<string> {
  // A row inserted in a transaction that stays open while later rows commit and get published
  // (a gap in the outbox sequence): it must still be published once it commits.
  const pg = new PgClient({ connectionString: ctx.databaseUrl, application_name: 'faults-long-tx' });
  await pg.connect();
  const id = randomUUID();
  const heldMs = 8_000 + Math.floor(ctx.random() * 7_000);
  try {
    await pg.query(`SET search_path TO "${ctx.fleet.db.schema}"`);
    await pg.query('BEGIN');
    await pg.query(
      `INSERT INTO outbox_events (id, aggregate_type, aggregate_key, event_type, topic, payload, headers)
       VALUES ($1, 'faults', $2, 'faults.probe', $3, $4, $5)`,
      [
        id,
        `probe-${id}`,
        `${ctx.fleet.namespace}.fleet.faults.probe.1`,
        JSON.stringify({ probe: id }),
        JSON.stringify({ 'x-event-type': 'faults.probe' }),
      ],
    );
    await sleep(heldMs);
    await pg.query('COMMIT');
    ctx.ack({ flow: 'probe', id, at: Date.now() });
  } finally {
    await pg.end();
  }
  return `outbox row held uncommitted ${heldMs} ms while later rows were published`;
}

async function f10(ctx: FaultContext, variant: number): Promise<string> {
  const kind = ['hang', 'invalid JSON', 'truncated'][variant % 3]!;
  if (kind === 'hang') ctx.llm.hangNext(2);
  else if (kind === 'invalid JSON') ctx.llm.invalidJsonNext(3);
  else ctx.llm.truncateNext(3);
  await sleep(15_000);
  ctx.llm.recover();
  return `LLM: next calls ${kind}`;
}

async function f11(ctx: FaultContext, variant: number): Promise<string> {
  const kind = ['down (503)', 'slow (3 s)', 'rate-limiting (429, Retry-After 2)'][variant % 3]!;
  if (variant % 3 === 0) ctx.channel.status = 503;
  else if (variant % 3 === 1) ctx.channel.slowMs = 3_000;
  else {
    ctx.channel.status = 429;
    ctx.channel.retryAfter = 2;
  }
  await sleep(10_000);
  ctx.channel.status = undefined;
  ctx.channel.retryAfter = undefined;
  ctx.channel.slowMs = 0;
  return `channel API ${kind} for 10 s`;
}

async function f12(ctx: FaultContext): Promise<string> {
  return crashAndRestart(ctx, 'minio', 6_000);
}

async function f13(ctx: FaultContext, variant: number): Promise<string> {
  const proxy = ctx.toxiproxy;
  if (!proxy || !ctx.proxiedRouter) throw new Error('F13 needs Toxiproxy and the proxied router');
  const kind = ['kafka partition', 'postgres latency 800 ms', 'kafka latency 500 ms'][variant % 3]!;
  if (variant % 3 === 0) {
    await proxy.setEnabled('kafka', false);
    await sleep(12_000);
    await proxy.setEnabled('kafka', true);
  } else {
    const name = variant % 3 === 1 ? 'postgres' : 'kafka';
    await proxy.addLatency(name, variant % 3 === 1 ? 800 : 500);
    await sleep(12_000);
    await proxy.removeToxics(name);
  }
  return `router pid ${ctx.proxiedRouter.child.pid}: ${kind} for 12 s`;
}

async function f14(ctx: FaultContext, variant: number): Promise<string> {
  if (!ctx.fakeTimeLib) throw new Error('F14 needs libfaketime');
  const { app, list } = pick(
    ctx,
    // The router: its leases and confirmation grace are where wall-clock time matters.
    workers(ctx).filter((w) => w.app === 'message-router'),
  );
  const skew = ['+90s', '-45s', '+10m'][variant % 3]!;
  // The wall clock is skewed; the monotonic clock (timers) is left alone, as NTP would.
  const skewed = await ctx.fleet.startReplica(app, {
    LD_PRELOAD: ctx.fakeTimeLib,
    FAKETIME: skew,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  });
  await sleep(20_000);
  await skewed.stop('SIGTERM');
  list.splice(list.indexOf(skewed), 1);
  return `${app} replica with its clock at ${skew} for 20 s`;
}

export async function inject(ctx: FaultContext, kind: FaultKind, variant: number): Promise<string> {
  switch (kind) {
    case 'F1':
      return crashAndRestart(ctx, 'kafka', 3_000);
    case 'F2':
      return f2(ctx);
    case 'F3':
      return f3(ctx);
    case 'F4':
      return f4(ctx);
    case 'F5':
      return crashAndRestart(ctx, 'postgres', 3_000);
    case 'F6':
      return f6(ctx);
    case 'F7':
      return f7(ctx);
    case 'F8':
      return f8(ctx);
    case 'F9':
      return f9(ctx);
    case 'F10':
      return f10(ctx, variant);
    case 'F11':
      return f11(ctx, variant);
    case 'F12':
      return f12(ctx);
    case 'F13':
      return f13(ctx, variant);
    case 'F14':
      return f14(ctx, variant);
  }
}

/** Toxiproxy's HTTP API (https://github.com/Shopify/toxiproxy#http-api), the few calls we need. */
export class Toxiproxy {
  constructor(readonly url: string) {}

  private async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const response = await request(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.body.text();
    if (response.statusCode >= 300)
      throw new Error(`toxiproxy ${method} ${path}: ${response.statusCode} ${text}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  async createProxy(name: string, listen: string, upstream: string): Promise<void> {
    await this.call('POST', '/proxies', { name, listen, upstream, enabled: true });
  }

  async setEnabled(name: string, enabled: boolean): Promise<void> {
    await this.call('POST', `/proxies/${name}`, { enabled });
  }

  async addLatency(name: string, latencyMs: number): Promise<void> {
    await this.call('POST', `/proxies/${name}/toxics`, {
      name: `latency-${name}`,
      type: 'latency',
      stream: 'downstream',
      attributes: { latency: latencyMs, jitter: Math.round(latencyMs / 5) },
    });
  }

  async removeToxics(name: string): Promise<void> {
    const proxy = (await this.call('GET', `/proxies/${name}`)) as { toxics: { name: string }[] };
    for (const toxic of proxy.toxics) await this.call('DELETE', `/proxies/${name}/toxics/${toxic.name}`);
  }
}
