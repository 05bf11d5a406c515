/**
 * The chat path as it runs in production, on the real local servers: the api, the outbox poller
 * and N message-router replicas as child processes (the bundles that ship), one fresh database
 * schema and one fresh topic namespace (`KAFKA_TOPIC_NAMESPACE`) for the whole fleet, and the fake
 * WhatsApp / Instagram server in the test process posting signed status webhooks to the api. The
 * job workers (file-merge, generation, exporter) join it when a test asks for them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeChannelServer, type FakeChannelCall } from '@fleet/channels/testing';
import { ALL_TOPICS, inNamespace } from '@fleet/contracts';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { createKafkaClient, provisionTopics } from '@fleet/kafka';
import { captureLogger, waitFor } from '@fleet/kafka/testing';
import {
  AppProcess,
  buildAppBundle,
  freePort,
  readLocalEnv,
  WORKSPACE_ROOT,
} from '@fleet/service-kit/testing';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { request, type Dispatcher } from 'undici';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const ISSUER = 'https://auth.e2e.test';
const AUDIENCE = 'kafka-fleet-api';
const TOKENS = { whatsapp: 'e2e-whatsapp-token', instagram: 'e2e-instagram-token' } as const;
const PHONE_NUMBER_ID = '100000000000001';
const APP_SECRET = 'e2e-app-secret-0123456789';
const VERIFY_TOKEN = 'e2e-verify-token';
/** The exporter's callback signing secret: a receiver of its webhooks verifies with it. */
export const EXPORT_CALLBACK_SECRET = 'e2e-callback-secret-0123456789';

export interface ChatFleetOptions {
  routers?: number;
  /** Read receipts from the fake channels; off → a delivered message ends at DELIVERED. */
  readReceipts?: boolean;
  /** Extra env for every app. */
  env?: Record<string, string>;
  /** Extra env for the message-router replicas only (e.g. lease, grace, session timeout). */
  routerEnv?: Record<string, string>;
  /** file-merge replicas (chunked uploads); none unless asked for. */
  fileMerge?: number;
  /** generation workers (jobs on the LLM at `llm`); none unless asked for. */
  generation?: number;
  /** The LLM the generation workers use: `{ endpoint, model }` (a FakeLlmServer in tests). */
  llm?: { endpoint: string; model: string };
  /** exporter replicas (engine bundles, signed with a fresh local key); none unless asked for. */
  exporter?: number;
  /** outbox-poller replicas. @defaultValue 1 */
  pollers?: number;
  /** Extra env for one app kind only, e.g. `{ 'file-merge': { … } }`. */
  appEnv?: Record<string, Record<string, string>>;
}

export interface ChatFleet {
  apiUrl: string;
  api: AppProcess;
  poller: AppProcess;
  pollers: AppProcess[];
  routers: AppProcess[];
  fileMerge: AppProcess[];
  generation: AppProcess[];
  exporters: AppProcess[];
  fake: FakeChannelServer;
  db: TestSchema;
  namespace: string;
  /** What every app of the fleet runs with (database schema, brokers, Redis, topic namespace …). */
  env: Record<string, string>;
  /** A bearer token for `sub`, signed with the fleet's test key; `claims` adds e.g. a `scope`. */
  token(sub: string, claims?: JWTPayload): Promise<string>;
  /** Starts one more router replica (e.g. after a SIGKILL); `env` adds to the fleet's router env. */
  startRouter(env?: Record<string, string>): Promise<AppProcess>;
  /**
   * Starts one more replica of a worker (`outbox-poller`, `message-router`, `file-merge`,
   * `generation`, `exporter`) with the env the fleet gave that app, plus `env`; resolves once ready.
   */
  startReplica(app: string, env?: Record<string, string>): Promise<AppProcess>;
  /** The env the fleet runs `app` with (the same that {@link startReplica} uses). */
  envOf(app: string): Record<string, string>;
  /** Stops every app; `keepSchema` leaves the database schema for a later look (the fault checker). */
  stop(options?: { keepSchema?: boolean }): Promise<void>;
}

/** Bundles an app's extra entry (its migrations command) beside its test bundle, once. */
function buildMigrate(app: string): string {
  const out = join(WORKSPACE_ROOT, 'dist/test', app, 'migrate.js');
  execFileSync(process.execPath, ['tools/build.mjs', `apps/${app}/src/migrate.ts`, out], {
    cwd: WORKSPACE_ROOT,
    stdio: 'ignore',
  });
  return out;
}

export async function startChatFleet(options: ChatFleetOptions = {}): Promise<ChatFleet> {
  const { routers: routerCount = 2, readReceipts = false, fileMerge: fileMergeCount = 0 } = options;
  for (const app of ['api', 'message-router', 'outbox-poller']) buildAppBundle(app);
  if (fileMergeCount > 0) buildAppBundle('file-merge');
  const generationCount = options.generation ?? 0;
  if (generationCount > 0) buildAppBundle('generation');
  const exporterCount = options.exporter ?? 0;
  if (exporterCount > 0) buildAppBundle('exporter');
  const migrations = ['api', 'message-router'].map(buildMigrate);

  const namespace = `e2e-${randomBytes(4).toString('hex')}`;
  const db = await createTestSchema({ url: DATABASE_URL });
  const common: Record<string, string> = {
    DATABASE_URL,
    DATABASE_SCHEMA: db.schema,
    KAFKA_BROKERS: BROKERS,
    REDIS_URL,
    KAFKA_TOPIC_NAMESPACE: namespace,
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  // Each app's migrations, as tools/fleet and the Helm hook run them: api tables, router tables,
  // and the outbox table both declare (applied once, by name).
  for (const migrate of migrations) {
    execFileSync(process.execPath, [migrate, 'up'], { env: { ...process.env, ...common }, stdio: 'ignore' });
  }
  const kafka = createKafkaClient({
    brokers: BROKERS.split(','),
    clientId: 'e2e-chat',
    logger: captureLogger(),
  });
  await provisionTopics(
    kafka,
    ALL_TOPICS.map((topic) => inNamespace(topic, namespace)),
  );

  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const fake = await FakeChannelServer.start({
    tokens: TOKENS,
    phoneNumberId: PHONE_NUMBER_ID,
    appSecret: APP_SECRET,
    webhookUrls: { whatsapp: `${apiUrl}/v1/webhooks/whatsapp`, instagram: `${apiUrl}/v1/webhooks/instagram` },
    sendReadReceipts: readReceipts,
    // As Meta does under load (and tools/fake-channels by default): statuses due together share a POST.
    callbackBatchWindowMs: 10,
  });

  const api = await AppProcess.start({
    app: 'api',
    env: {
      ...common,
      API_PORT: String(apiPort),
      AUTH_JWT_ALGORITHMS: 'ES256',
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      AUTH_JWT_PUBLIC_KEY: await exportSPKI(publicKey),
      // The load tests send hundreds of messages per user and second; the limiter has its own test.
      RATE_LIMIT_MAX: '1000000',
      WHATSAPP_APP_SECRET: APP_SECRET,
      INSTAGRAM_APP_SECRET: APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
      INSTAGRAM_VERIFY_TOKEN: VERIFY_TOKEN,
    },
  });
  const appEnv: Record<string, Record<string, string>> = {};
  const envFor = (app: string, env: Record<string, string>) =>
    (appEnv[app] = { ...env, ...options.appEnv?.[app] });
  envFor('outbox-poller', { ...common, OUTBOX_POLL_INTERVAL_MS: '200' });
  const pollers: AppProcess[] = [];
  for (let i = 0; i < (options.pollers ?? 1); i++)
    pollers.push(await AppProcess.start({ app: 'outbox-poller', env: appEnv['outbox-poller']! }));
  const poller = pollers[0]!;
  const routerEnv = {
    ...common,
    WHATSAPP_API_BASE_URL: fake.url,
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
    WHATSAPP_ACCESS_TOKEN: TOKENS.whatsapp,
    INSTAGRAM_API_BASE_URL: fake.url,
    INSTAGRAM_ACCESS_TOKEN: TOKENS.instagram,
    ...options.routerEnv,
  };
  envFor('message-router', routerEnv);
  const startRouter = (env: Record<string, string> = {}) =>
    AppProcess.start({ app: 'message-router', env: { ...appEnv['message-router'], ...env } });
  const routers: AppProcess[] = [];
  for (let i = 0; i < routerCount; i++) routers.push(await startRouter());
  // The api's migrations (above) made the tables file-merge and generation work on.
  envFor('file-merge', common);
  const fileMerge: AppProcess[] = [];
  for (let i = 0; i < fileMergeCount; i++)
    fileMerge.push(await AppProcess.start({ app: 'file-merge', env: appEnv['file-merge']! }));
  if (options.llm)
    envFor('generation', {
      ...common,
      LOCAL_LLM_ENDPOINT: options.llm.endpoint,
      LOCAL_LLM_MODEL: options.llm.model,
    });
  const generation: AppProcess[] = [];
  for (let i = 0; i < generationCount; i++) {
    if (!options.llm) throw new Error('generation workers need options.llm');
    generation.push(await AppProcess.start({ app: 'generation', env: appEnv['generation']! }));
  }
  const exporters: AppProcess[] = [];
  if (exporterCount > 0) {
    // As tools/fleet runs it: a local Ed25519 key, the callback secret, the deployed V8 flags.
    const keyFile = join(mkdtempSync(join(tmpdir(), 'e2e-exporter-')), 'signing-key.pem');
    const { privateKey: signingKey } = generateKeyPairSync('ed25519');
    writeFileSync(keyFile, signingKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    envFor('exporter', {
      ...common,
      EXPORT_SIGNING_KEY_FILE: keyFile,
      WORKER_CALLBACK_SECRET: EXPORT_CALLBACK_SECRET,
      NODE_OPTIONS: readLocalEnv('exporter').NODE_OPTIONS ?? '',
    });
    for (let i = 0; i < exporterCount; i++) {
      exporters.push(await AppProcess.start({ app: 'exporter', env: appEnv['exporter']! }));
    }
  }
  const replicas: Record<string, AppProcess[]> = {
    'outbox-poller': pollers,
    'message-router': routers,
    'file-merge': fileMerge,
    generation,
    exporter: exporters,
  };
  const apps = () => [api, ...pollers, ...routers, ...fileMerge, ...generation, ...exporters];
  await Promise.all(apps().map((app) => app.waitForHealth('/health/ready')));

  return {
    apiUrl,
    api,
    poller,
    pollers,
    routers,
    fileMerge,
    generation,
    exporters,
    fake,
    db,
    namespace,
    env: common,
    token: (sub, claims) => signToken(privateKey, sub, claims),
    async startRouter(env) {
      const router = await startRouter(env);
      await router.waitForHealth('/health/ready');
      routers.push(router);
      return router;
    },
    async startReplica(app, env = {}) {
      const list = replicas[app];
      if (!list || !appEnv[app]) throw new Error(`startReplica: this fleet runs no ${app}`);
      const replica = await AppProcess.start({ app, env: { ...appEnv[app], ...env } });
      // The exporter's boot (V8 flags, its signing key published) takes tens of seconds on a busy box.
      await replica.waitForHealth('/health/ready', 90_000);
      list.push(replica);
      return replica;
    },
    envOf(app) {
      if (!appEnv[app]) throw new Error(`envOf: this fleet runs no ${app}`);
      return { ...appEnv[app] };
    },
    async stop({ keepSchema = false } = {}) {
      await Promise.allSettled(apps().map((app) => app.stop()));
      await fake.stop();
      if (keepSchema) await db.dataSource.destroy();
      else await db.drop();
    },
  };
}

function signToken(key: CryptoKey, sub: string, claims: JWTPayload = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256' })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime('1h')
    .sign(key);
}

/** JSON over HTTP with a bearer token; answers status and parsed body. */
export async function call<T = unknown>(
  url: string,
  token: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T }> {
  // undici's `request`: the benchmark's load generator runs on the fleet's 2 cores, and `fetch`
  // costs four times its CPU per call.
  const response = await request(url, {
    method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: (text ? JSON.parse(text) : undefined) as T };
}

/** A WhatsApp conversation the tests drive, and its owner's token. */
export interface ChatConversation {
  c: number;
  id: string;
  token: string;
}

/**
 * `count` WhatsApp conversations, each owned by `<userPrefix>-<c>` and sent to its own phone
 * number `+<prefix><c>`, so the fake channel's calls tell conversations apart.
 */
export async function createConversations(
  fleet: ChatFleet,
  { count, userPrefix, phonePrefix }: { count: number; userPrefix: string; phonePrefix: string },
): Promise<ChatConversation[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, c) => {
      const token = await fleet.token(`${userPrefix}-${c}`);
      const created = await call<{ id: string }>(`${fleet.apiUrl}/v1/conversations`, token, {
        method: 'POST',
        body: {
          participants: [],
          channel: 'whatsapp',
          recipients: { whatsapp: `+${phonePrefix}${String(c).padStart(7, '0')}` },
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return { c, id: created.body.id, token };
    }),
  );
}

/**
 * Sends `perConversation` messages to each conversation: one conversation's one after another
 * (that order is the one to keep), the conversations in parallel. Each must be accepted as
 * PENDING. Resolves to message id → (conversation, number in it).
 */
export async function sendMessages(
  fleet: ChatFleet,
  conversations: readonly ChatConversation[],
  { perConversation, keyPrefix }: { perConversation: number; keyPrefix: string },
): Promise<Map<string, { c: number; n: number }>> {
  const sent = new Map<string, { c: number; n: number }>();
  await Promise.all(
    conversations.map(async ({ c, id, token }) => {
      for (let n = 0; n < perConversation; n++) {
        const response = await call<{ id: string; status: string }>(
          `${fleet.apiUrl}/v1/conversations/${id}/messages`,
          token,
          {
            method: 'POST',
            headers: { 'idempotency-key': `${keyPrefix}c${c}-m${n}` },
            body: { text: `conversation ${c} message ${n}` },
          },
        );
        assert.equal(response.status, 202, JSON.stringify(response.body));
        assert.equal(response.body.status, 'PENDING');
        sent.set(response.body.id, { c, n });
      }
    }),
  );
  return sent;
}

/** How many times the channel accepted each message (by our message id). */
export function acceptedPerMessage(calls: readonly FakeChannelCall[]): Map<string, number> {
  const perMessage = new Map<string, number>();
  for (const call of calls) {
    if (call.status === 200) perMessage.set(call.messageId!, (perMessage.get(call.messageId!) ?? 0) + 1);
  }
  return perMessage;
}

/**
 * Per recipient (one per conversation), the message numbers the channel accepted first, out of
 * order: `to: n after m`. Messages in `skip` (e.g. those that went through the retry topic, which
 * may fall behind their conversation) are left out.
 */
export function orderViolations(
  calls: readonly FakeChannelCall[],
  sent: ReadonlyMap<string, { n: number }>,
  skip: ReadonlySet<string> = new Set(),
): string[] {
  const lastN = new Map<string, number>();
  const seen = new Set<string>();
  const violations: string[] = [];
  for (const call of calls) {
    if (call.status !== 200 || seen.has(call.messageId!) || skip.has(call.messageId!)) continue;
    seen.add(call.messageId!);
    const { n } = sent.get(call.messageId!)!;
    if ((lastN.get(call.to!) ?? -1) > n) violations.push(`${call.to}: ${n} after ${lastN.get(call.to!)}`);
    lastN.set(call.to!, n);
  }
  return violations;
}

/** Waits until every message of the conversations shows DELIVERED in the api. */
export async function waitAllDelivered(
  fleet: ChatFleet,
  conversations: readonly ChatConversation[],
  perConversation: number,
): Promise<void> {
  const notDelivered = async () => {
    const pending: string[] = [];
    for (const { id, token } of conversations) {
      const page = await call<{ items: { id: string; status: string }[] }>(
        `${fleet.apiUrl}/v1/conversations/${id}/messages?limit=${perConversation}`,
        token,
      );
      assert.equal(page.status, 200, JSON.stringify(page.body));
      for (const message of page.body.items) if (message.status !== 'DELIVERED') pending.push(message.id);
    }
    return pending;
  };
  await waitFor(
    'every message DELIVERED in the api',
    async () => (await notDelivered()).length === 0,
    180_000,
  );
}
