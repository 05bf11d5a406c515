/**
 * The chat path as it runs in production, on the real local servers: the api, the outbox poller
 * and N message-router replicas as child processes (the bundles that ship), one fresh database
 * schema and one fresh topic namespace (`KAFKA_TOPIC_NAMESPACE`) for the whole fleet, and the fake
 * WhatsApp / Instagram server in the test process posting signed status webhooks to the api.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { FakeChannelServer } from '@fleet/channels/testing';
import { ALL_TOPICS, inNamespace } from '@fleet/contracts';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { createKafkaClient, provisionTopics } from '@fleet/kafka';
import { captureLogger } from '@fleet/kafka/testing';
import { AppProcess, buildAppBundle, freePort, WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const ISSUER = 'https://auth.e2e.test';
const AUDIENCE = 'kafka-fleet-api';
const TOKENS = { whatsapp: 'e2e-whatsapp-token', instagram: 'e2e-instagram-token' } as const;
const PHONE_NUMBER_ID = '100000000000001';
const APP_SECRET = 'e2e-app-secret-0123456789';
const VERIFY_TOKEN = 'e2e-verify-token';

export interface ChatFleetOptions {
  routers?: number;
  /** Read receipts from the fake channels; off → a delivered message ends at DELIVERED. */
  readReceipts?: boolean;
  /** Extra env for every app. */
  env?: Record<string, string>;
  /** Extra env for the message-router replicas only (e.g. lease, grace, session timeout). */
  routerEnv?: Record<string, string>;
}

export interface ChatFleet {
  apiUrl: string;
  api: AppProcess;
  poller: AppProcess;
  routers: AppProcess[];
  fake: FakeChannelServer;
  db: TestSchema;
  namespace: string;
  /** A bearer token for `sub`, signed with the fleet's test key. */
  token(sub: string): Promise<string>;
  /** Starts one more router replica (e.g. after a SIGKILL); `env` adds to the fleet's router env. */
  startRouter(env?: Record<string, string>): Promise<AppProcess>;
  stop(): Promise<void>;
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
  const { routers: routerCount = 2, readReceipts = false } = options;
  for (const app of ['api', 'message-router', 'outbox-poller']) buildAppBundle(app);
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
  const poller = await AppProcess.start({
    app: 'outbox-poller',
    env: { ...common, OUTBOX_POLL_INTERVAL_MS: '200' },
  });
  const routerEnv = {
    ...common,
    WHATSAPP_API_BASE_URL: fake.url,
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
    WHATSAPP_ACCESS_TOKEN: TOKENS.whatsapp,
    INSTAGRAM_API_BASE_URL: fake.url,
    INSTAGRAM_ACCESS_TOKEN: TOKENS.instagram,
    ...options.routerEnv,
  };
  const startRouter = (env: Record<string, string> = {}) =>
    AppProcess.start({ app: 'message-router', env: { ...routerEnv, ...env } });
  const routers: AppProcess[] = [];
  for (let i = 0; i < routerCount; i++) routers.push(await startRouter());
  await Promise.all([api, poller, ...routers].map((app) => app.waitForHealth('/health/ready')));

  return {
    apiUrl,
    api,
    poller,
    routers,
    fake,
    db,
    namespace,
    token: (sub) => signToken(privateKey, sub),
    async startRouter(env) {
      const router = await startRouter(env);
      await router.waitForHealth('/health/ready');
      routers.push(router);
      return router;
    },
    async stop() {
      await Promise.allSettled([api, poller, ...routers].map((app) => app.stop()));
      await fake.stop();
      await db.drop();
    },
  };
}

function signToken(key: CryptoKey, sub: string): Promise<string> {
  return new SignJWT({})
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
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}
