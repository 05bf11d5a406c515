import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { AppProcess, freePort } from '@fleet/service-kit/testing';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { API_MIGRATIONS } from '../src/migrations';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * The local MinIO (tools/infra's variables). Suites that do not upload keep the default bucket,
 * which the api only makes sure exists; the uploads suite passes a fresh one (`createTestBucket`).
 */
export const MINIO_ENV = {
  MINIO_ENDPOINT: process.env.MINIO_ENDPOINT ?? '127.0.0.1',
  MINIO_PORT: process.env.MINIO_PORT ?? '9000',
  MINIO_USE_SSL: process.env.MINIO_USE_SSL ?? 'false',
  MINIO_ACCESS_KEY: process.env.MINIO_ACCESS_KEY ?? 'fleet-minio',
  MINIO_SECRET_KEY: process.env.MINIO_SECRET_KEY ?? 'fleet-minio-secret',
};
export const ISSUER = 'test-issuer';
export const AUDIENCE = 'test-api';
export const WHATSAPP_SECRET = 'test-whatsapp-app-secret';
export const INSTAGRAM_SECRET = 'test-instagram-app-secret';
export const VERIFY_TOKEN = 'test-verify-token';

/** The api's trusted key (an ES256 JWKS file) and a stranger's key, for signing test tokens. */
export interface TestKeys {
  jwksFile: string;
  trusted: CryptoKey;
  stranger: CryptoKey;
}

export async function createKeys(): Promise<TestKeys> {
  const trusted = await generateKeyPair('ES256', { extractable: true });
  const stranger = await generateKeyPair('ES256');
  const dir = mkdtempSync(join(tmpdir(), 'api-keys-'));
  const jwksFile = join(dir, 'jwks.json');
  const jwk = await exportJWK(trusted.publicKey);
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...jwk, alg: 'ES256', kid: 'test', use: 'sig' }] }));
  return { jwksFile, trusted: trusted.privateKey, stranger: stranger.privateKey };
}

export interface TokenOptions {
  key?: CryptoKey;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative for an expired token. @defaultValue 600 */
  expiresInS?: number;
  /** Seconds from now. */
  notBeforeS?: number;
  claims?: JWTPayload;
}

export async function tokenFor(keys: TestKeys, userId: string, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(options.claims ?? {})
    .setProtectedHeader({ alg: 'ES256', kid: 'test' })
    .setSubject(userId)
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(now + (options.expiresInS ?? 600));
  if (options.notBeforeS !== undefined) jwt.setNotBefore(now + options.notBeforeS);
  return jwt.sign(options.key ?? keys.trusted);
}

/** A fresh schema with the api's migrations. */
export function createApiSchema(): Promise<TestSchema> {
  return createTestSchema({ url: DATABASE_URL, migrations: API_MIGRATIONS });
}

export interface ApiUnderTest {
  process: AppProcess;
  baseUrl: string;
  port: number;
  stop(): Promise<void>;
}

/** The bundled api as a child process on fresh ports, pointed at `schema`; resolves once it serves HTTP. */
export async function startApi(
  schema: string,
  keys: TestKeys,
  env: Record<string, string> = {},
): Promise<ApiUnderTest> {
  const port = await freePort();
  const app = await AppProcess.start({
    app: 'api',
    env: {
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: BROKERS,
      REDIS_URL,
      ...MINIO_ENV,
      API_PORT: String(port),
      AUTH_JWKS_FILE: keys.jwksFile,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      AUTH_CLOCK_TOLERANCE_S: '5',
      // Tests that do not consume statuses need no consumer group.
      CHAT_STATUS_CONSUMER: '0',
      CHAT_STATUS_GROUP: `test-api-status-${randomUUID().slice(0, 8)}`,
      RATE_LIMIT_MAX: '10000',
      WHATSAPP_APP_SECRET: WHATSAPP_SECRET,
      WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
      INSTAGRAM_APP_SECRET: INSTAGRAM_SECRET,
      INSTAGRAM_VERIFY_TOKEN: VERIFY_TOKEN,
      ...env,
    },
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await app.waitForHealth('/health/live');
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (app.child.exitCode !== null) throw new Error(`api exited (${app.child.exitCode}):\n${app.tail()}`);
    // Any answer means the listener is up (even a 429: the rate limit counts this probe too).
    const ok = await fetch(`${baseUrl}/docs/json`).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`api did not serve HTTP in time:\n${app.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    process: app,
    baseUrl,
    port,
    stop: async () => {
      await app.stop();
    },
  };
}

export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One HTTP call; `body` may be an object (sent as JSON) or a raw string. */
export async function call<T = Record<string, unknown>>(
  api: ApiUnderTest,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${api.baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** Rows in `messages`, `message_deliveries` and `outbox_events` of the test schema. */
export async function counts(
  db: TestSchema,
): Promise<{ messages: number; deliveries: number; outbox: number }> {
  const [row] = await db.dataSource.query(
    `SELECT (SELECT count(*) FROM messages)::int AS messages,
            (SELECT count(*) FROM message_deliveries)::int AS deliveries,
            (SELECT count(*) FROM outbox_events)::int AS outbox`,
  );
  return row;
}

export const recipients = { whatsapp: '+5511999990000', instagram: '17841400000000' };

/** Creates a conversation as `token`'s user and returns its id. */
export async function createConversation(
  api: ApiUnderTest,
  token: string,
  channel: 'whatsapp' | 'instagram' | 'all' = 'all',
  participants: string[] = [],
): Promise<string> {
  const answer = await call<{ id: string }>(api, 'POST', '/v1/conversations', {
    token,
    body: { participants, channel, recipients },
  });
  if (answer.status !== 201) throw new Error(`create conversation: ${answer.status} ${answer.text}`);
  return answer.body.id;
}
