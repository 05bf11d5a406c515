/**
 * Benchmark (not a test): how fast the chat path's first step alone can go on this machine, beside
 * the raw Kafka pipe, to tell how far `bench:chat`'s throughput goal is from what the machine allows.
 *
 *   npm run bench:chat-ceiling     (servers from tools/infra; REQUESTS=5000 CONCURRENCY=64)
 *
 * Every delivered message starts with one accepted POST (the issue's api: one message per request,
 * stored with its outbox event in one transaction before the 202). Measured, each the median of 3
 * rounds of REQUESTS with CONCURRENCY in flight, the load generator on the same machine:
 *  1. raw kafkajs produce+consume throughput, as in `bench:chat`;
 *  2. the api alone: the bundled api app, nothing downstream running (no poller, no router);
 *  3. the floor: `floor-api.ts`, node:http and one two-row insert per POST, nothing else.
 * Prints each rate, the CPU each used per request, and each as a ratio of the raw pipe, beside the
 * throughput goal of `bench:chat` (fleet ≥ 0.15 × raw). The whole fleet cannot deliver faster than
 * its first step runs alone on the same cores.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { freePort, WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { request } from 'undici';
import { createConversations, startChatFleet } from '../../test/chat/harness';
import { cpuByGroup, type CpuGroups } from './cpu';
import { FLOOR_DDL } from './floor-api';
import { benchText, closedLoop, postMessage, rawKafkaPipe } from './chat-common';

const REQUESTS = Number(process.env.REQUESTS ?? 5_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
const ROUNDS = 3;
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const CONVERSATIONS = 50;

interface Round {
  rate: number;
  /** CPU ms per request: the server, PostgreSQL, the load generator. */
  cpu: { server: number; postgres: number; client: number };
}

/** REQUESTS sends with CONCURRENCY in flight; the rate and the CPU used per request. */
async function round(server: string, send: (i: number) => Promise<void>): Promise<Round> {
  const groups: CpuGroups = {
    server: (c) => c.includes(server),
    postgres: (c) => c.startsWith('postgres'),
  };
  const before = cpuByGroup(groups);
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  await closedLoop(0, REQUESTS, CONCURRENCY, send);
  const seconds = (performance.now() - started) / 1000;
  const after = cpuByGroup(groups);
  const own = process.cpuUsage(ownBefore);
  const perRequest = (s: number) => (s * 1000) / REQUESTS;
  return {
    rate: REQUESTS / seconds,
    cpu: {
      server: perRequest(after.server! - before.server!),
      postgres: perRequest(after.postgres! - before.postgres!),
      client: perRequest((own.user + own.system) / 1e6),
    },
  };
}

async function rounds(label: string, server: string, send: (i: number) => Promise<void>): Promise<Round> {
  const all: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) all.push(await round(server, send));
  console.log(`${label}: ${all.map((r) => r.rate.toFixed(0)).join(', ')} requests/s`);
  return [...all].sort((a, b) => a.rate - b.rate)[Math.floor(all.length / 2)]!; // the median round
}

async function main(): Promise<void> {
  console.log('raw kafkajs pipe …');
  const raw = await rawKafkaPipe({ brokers: BROKERS, keys: CONVERSATIONS, records: 20_000, rounds: 3 });
  console.log(`raw rounds: ${raw.rounds.map((r) => r.toFixed(0)).join(', ')} records/s`);

  const fleet = await startChatFleet({ routers: 0 });
  let floor: ReturnType<typeof spawn> | undefined;
  try {
    await fleet.poller.stop();
    const conversations = await createConversations(fleet, {
      count: CONVERSATIONS,
      userPrefix: 'ceiling-user',
      phonePrefix: '1777',
    });
    const api = await rounds('api alone', 'api/main.js', async (i) => {
      await postMessage(fleet, conversations[i % conversations.length]!, i);
    });
    await fleet.api.stop();

    await fleet.db.dataSource.query(FLOOR_DDL(fleet.db.schema));
    const port = await freePort();
    floor = spawn(process.execPath, ['--require', '@swc-node/register', 'tools/bench/floor-api.ts'], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, PORT: String(port), FLOOR_SCHEMA: fleet.db.schema },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((resolve) => floor!.stdout!.once('data', resolve));
    const bare = await rounds('floor', 'floor-api.ts', async (i) => {
      const sent = await request(`http://127.0.0.1:${port}/c${i % CONVERSATIONS}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({ text: benchText(i) }),
      });
      await sent.body.dump();
      if (sent.statusCode !== 202) throw new Error(`floor: ${sent.statusCode}`);
    });

    const cores = availableParallelism();
    const goal = 0.15 * raw.throughput;
    const row = (label: string, value: string) => console.log(`${label.padEnd(38)}${value}`);
    const cpu = (r: Round) => {
      const total = r.cpu.server + r.cpu.postgres + r.cpu.client;
      return (
        `server ${r.cpu.server.toFixed(2)} + postgres ${r.cpu.postgres.toFixed(2)} + load generator ` +
        `${r.cpu.client.toFixed(2)} ms: ${(((total / 1000) * r.rate * 100) / cores).toFixed(0)} % of the ` +
        `machine's ${cores} cores busy at that rate`
      );
    };
    console.log('');
    row('raw kafkajs produce+consume /s', raw.throughput.toFixed(0));
    row(
      'goal of bench:chat (0.15 × raw)',
      `${goal.toFixed(0)} delivered messages/s: ${((cores * 1000) / goal).toFixed(2)} ms of CPU per message on ${cores} cores, for everything`,
    );
    row(
      'api alone: accepted POSTs/s',
      `${api.rate.toFixed(0)}   ratio ${(api.rate / raw.throughput).toFixed(3)}`,
    );
    row('  CPU per POST', cpu(api));
    row(
      'floor: accepted POSTs/s',
      `${bare.rate.toFixed(0)}   ratio ${(bare.rate / raw.throughput).toFixed(3)}`,
    );
    row('  CPU per POST', cpu(bare));
  } finally {
    floor?.kill();
    await fleet.stop();
  }
  process.exit(0);
}

void main();
