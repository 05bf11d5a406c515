/**
 * The fault campaign's independent checker: the verdict comes from outcomes only, never from the
 * fleet's own code paths. It imports no `@fleet/*` module, only `pg`, `kafkajs`, `minio` and node
 * itself, and reads:
 *
 *  - `acks.jsonl`, the workload's log of what the api acknowledged (2xx), one line per request;
 *  - `channel-calls.jsonl` and `receiver.jsonl`, what the third parties saw: every call of the
 *    fake WhatsApp API and every verified delivery to the export webhook receiver;
 *  - the database tables that hold each request's final state (plain SQL);
 *  - the namespace's `.retry` and `.dlq` topics, read from the start with a separate kafkajs client;
 *  - MinIO: each completed upload's object, hashed again.
 *
 * Per flow it reports acknowledged, effected, lost, duplicate effects, per-key order violations,
 * stuck (not final when the run stopped waiting) and dead-lettered (with reasons). Lost,
 * duplicates and order violations fail the run; so does stuck.
 *
 *   SWC_NODE_PROJECT=tsconfig.base.json node --require @swc-node/register tools/faults/checker.ts <run dir>
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type EachMessagePayload } from 'kafkajs';
import { Client as MinioClient } from 'minio';
import { Client as PgClient } from 'pg';

/** What the checker needs to find the outcome: where the run's data lives. */
export interface CheckSources {
  databaseUrl: string;
  schema: string;
  brokers: string[];
  /** The run's topic namespace: its `.retry` / `.dlq` topics are read. */
  namespace: string;
  minio: {
    endPoint: string;
    port: number;
    useSSL: boolean;
    accessKey: string;
    secretKey: string;
    bucket: string;
  };
}

/** One line of `acks.jsonl`. */
export type Ack =
  | { flow: 'chat'; id: string; key: string; n: number; at: number }
  | { flow: 'upload'; id: string; sha256: string; size: number; at: number }
  | { flow: 'story'; id: string; jobId: string; at: number }
  | { flow: 'export'; id: string; at: number }
  | { flow: 'probe'; id: string; at: number }
  | { flow: 'poison'; id: string; topic: string; at: number };

/** One line of `channel-calls.jsonl`: what the fake channel API received and answered. */
export interface ChannelCall {
  seq: number;
  messageId?: string;
  to?: string;
  status?: number;
  receivedAt: string;
}

/** One line of `receiver.jsonl`: a verified delivery to the webhook receiver. */
export interface ReceiverDelivery {
  webhookId: string;
  status: number;
  body: string;
}

export interface FlowVerdict {
  flow: string;
  acknowledged: number;
  effected: number;
  lost: string[];
  duplicates: string[];
  orderViolations: string[];
  stuck: string[];
  deadLettered: number;
  /** Dead-letter reasons (header `x-dlq-reason`) → count, for this flow's records. */
  reasons: Record<string, number>;
  /** Why a check does not apply to this flow, e.g. an idempotent overwrite cannot be counted. */
  notes: string[];
}

export interface Verdict {
  ok: boolean;
  flows: FlowVerdict[];
  /** Dead letters with no reason header: every DLQ record must say why. */
  reasonless: number;
  checkedAt: string;
}

const FINAL_MESSAGE = new Set(['SENT', 'DELIVERED', 'READ', 'FAILED']);

export function readJsonl<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

interface TopicRecord {
  topic: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * Reads every record of `topics` from the start with a fresh group of a plain kafkajs client,
 * handing each to `onMessage`; resolves once the count the admin client gave is reached.
 */
async function readAll(
  sources: CheckSources,
  topics: readonly string[],
  onMessage: (payload: EachMessagePayload) => void,
  timeoutMs = 120_000,
): Promise<void> {
  const kafka = new Kafka({
    clientId: 'faults-checker',
    brokers: sources.brokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  let total = 0;
  try {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high) - Number(p.low);
    }
  } finally {
    await admin.disconnect();
  }
  if (total === 0) return;
  const consumer = kafka.consumer({
    groupId: `faults-checker-${Date.now()}-${Math.random().toString(16).slice(2)}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  let seen = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `checker: read ${seen} of ${total} records of ${topics.join(', ')} in ${timeoutMs / 1000} s`,
            ),
          ),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async (payload) => {
            onMessage(payload);
            if (++seen >= total) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}

/** The namespace's topics that `keep` selects. */
async function namespaceTopics(sources: CheckSources, keep: (topic: string) => boolean): Promise<string[]> {
  const admin = new Kafka({
    clientId: 'faults-checker',
    brokers: sources.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith(`${sources.namespace}.`) && keep(t));
  } finally {
    await admin.disconnect();
  }
}

/** Every record of the namespace's retry and DLQ topics. */
async function readSideTopics(sources: CheckSources): Promise<TopicRecord[]> {
  const topics = await namespaceTopics(sources, (t) => t.endsWith('.retry') || t.endsWith('.dlq'));
  const records: TopicRecord[] = [];
  await readAll(sources, topics, ({ topic, message }) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(message.headers ?? {})) {
      if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    }
    records.push({ topic, value: message.value?.toString('utf8') ?? '', headers });
  });
  return records;
}

/** The id of the request a side-topic record is about, whatever the payload's shape. */
function idsIn(value: string): string[] {
  return [...new Set(value.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? [])];
}

function emptyVerdict(flow: string, acknowledged: number): FlowVerdict {
  return {
    flow,
    acknowledged,
    effected: 0,
    lost: [],
    duplicates: [],
    orderViolations: [],
    stuck: [],
    deadLettered: 0,
    reasons: {},
    notes: [],
  };
}

export async function check(runDir: string, sources: CheckSources): Promise<Verdict> {
  const acks = readJsonl<Ack>(join(runDir, 'acks.jsonl'));
  const calls = readJsonl<ChannelCall>(join(runDir, 'channel-calls.jsonl')).sort((a, b) => a.seq - b.seq);
  const deliveries = readJsonl<ReceiverDelivery>(join(runDir, 'receiver.jsonl'));
  const side = await readSideTopics(sources);
  const dlq = side.filter((r) => r.topic.endsWith('.dlq'));
  const retried = new Set(side.filter((r) => r.topic.endsWith('.retry')).flatMap((r) => idsIn(r.value)));
  const dlqById = new Map<string, TopicRecord[]>();
  for (const record of dlq) {
    for (const id of idsIn(record.value)) dlqById.set(id, [...(dlqById.get(id) ?? []), record]);
  }
  const pg = new PgClient({ connectionString: sources.databaseUrl, application_name: 'faults-checker' });
  await pg.connect();
  await pg.query(`SET search_path TO "${sources.schema.replace(/"/g, '""')}"`);
  const flows: FlowVerdict[] = [];
  const deadLetter = (verdict: FlowVerdict, id: string): boolean => {
    const records = dlqById.get(id);
    if (!records) return false;
    verdict.deadLettered++;
    for (const r of records) {
      const reason = r.headers['x-dlq-reason'] ?? '(none)';
      verdict.reasons[reason] = (verdict.reasons[reason] ?? 0) + 1;
    }
    return true;
  };
  const byId = async (sql: string, ids: string[]): Promise<Map<string, Record<string, unknown>>> => {
    const rows = ids.length === 0 ? [] : (await pg.query(sql, [ids])).rows;
    return new Map(rows.map((r: Record<string, unknown>) => [String(r.id), r]));
  };

  try {
    // ---- chat: at the channel exactly once, per conversation in order --------------------------
    const chat = acks.filter((a): a is Extract<Ack, { flow: 'chat' }> => a.flow === 'chat');
    const chatAcks = new Map(chat.map((a) => [a.id, a]));
    const v = emptyVerdict('chat', chatAcks.size);
    const accepted = new Map<string, number>();
    const refusedFirst = new Set<string>();
    for (const call of calls) {
      if (!call.messageId) continue;
      if (call.status === 200) accepted.set(call.messageId, (accepted.get(call.messageId) ?? 0) + 1);
      else if (!accepted.has(call.messageId)) refusedFirst.add(call.messageId);
    }
    const rows = await byId('SELECT id::text AS id, status FROM messages WHERE id = ANY($1::uuid[])', [
      ...chatAcks.keys(),
    ]);
    const unfinished: string[] = [];
    for (const [id] of chatAcks) {
      const times = accepted.get(id) ?? 0;
      const row = rows.get(id);
      if (times > 0) v.effected++;
      if (times > 1) v.duplicates.push(`${id} at the channel ${times} times`);
      if (times === 0) {
        if (deadLetter(v, id)) continue;
        if (!row) v.lost.push(`${id}: acknowledged, no row, never at the channel`);
        else if (row.status === 'FAILED') v.deadLettered++;
        else if (FINAL_MESSAGE.has(String(row.status)))
          v.lost.push(`${id}: ${String(row.status)} but never at the channel`);
        else unfinished.push(id);
      } else if (row && !FINAL_MESSAGE.has(String(row.status))) {
        v.stuck.push(`${id}: at the channel, still ${String(row.status)} in the api`);
      }
    }
    // Never at the channel and not final: stuck while something still holds the work (its outbox
    // row unpublished, its record not yet consumed); lost once nothing does (the broker took the
    // publish but the record is not on the topic, or the router group committed past it).
    if (unfinished.length > 0) {
      const outbox = await pg.query<{ id: string; published_at: Date | null }>(
        `SELECT payload->>'messageId' AS id, published_at FROM outbox_events
          WHERE topic = $1 AND payload->>'messageId' = ANY($2::text[])`,
        [`${sources.namespace}.chat.message.outgoing.1`, unfinished],
      );
      const published = new Map(outbox.rows.map((r) => [r.id, r.published_at]));
      const where = await locate(
        sources,
        `${sources.namespace}.chat.message.outgoing.1`,
        new Set(unfinished),
      );
      const committed = await committedOffsets(
        sources,
        `${sources.namespace}.message-router`,
        `${sources.namespace}.chat.message.outgoing.1`,
      );
      for (const id of unfinished) {
        const at = where.get(id);
        if (!published.get(id)) v.stuck.push(`${id}: PENDING, its outbox row not published`);
        else if (!at)
          v.lost.push(`${id}: published from the outbox (the broker acknowledged it), not on the topic`);
        else if ((committed.get(at.partition) ?? -1) > at.offset && !retried.has(id))
          v.lost.push(
            `${id}: message-router committed past it (partition ${at.partition}, offset ${at.offset}), never at the channel`,
          );
        else
          v.stuck.push(
            `${id}: PENDING, its record (partition ${at.partition}, offset ${at.offset}) not consumed yet`,
          );
      }
    }
    // Order: the first acceptance of each message per conversation, for messages that neither
    // went through a retry topic nor were refused by the channel first (ARCHITECTURE §4.4: only
    // the failed message may fall behind).
    const lastN = new Map<string, number>();
    const seen = new Set<string>();
    for (const call of calls) {
      const ack = call.messageId ? chatAcks.get(call.messageId) : undefined;
      if (!ack || call.status !== 200 || seen.has(ack.id)) continue;
      seen.add(ack.id);
      if (retried.has(ack.id) || refusedFirst.has(ack.id)) continue;
      const last = lastN.get(ack.key) ?? -1;
      if (last > ack.n) v.orderViolations.push(`${ack.key}: message ${ack.n} after ${last}`);
      lastN.set(ack.key, Math.max(last, ack.n));
    }
    v.notes.push(
      `order checked over ${[...seen].filter((id) => !retried.has(id) && !refusedFirst.has(id)).length} first deliveries; ` +
        `${[...seen].filter((id) => retried.has(id) || refusedFirst.has(id)).length} retried or refused first, left out`,
    );
    flows.push(v);
  } catch (error) {
    await pg.end();
    throw error;
  }

  // ---- uploads: COMPLETED, and the object in MinIO hashes as the client's bytes ----------------
  const minio = new MinioClient(sources.minio);
  const uploads = acks.filter((a): a is Extract<Ack, { flow: 'upload' }> => a.flow === 'upload');
  const u = emptyVerdict('upload', uploads.length);
  const uploadRows = await byId(
    'SELECT id::text AS id, status, final_key, sha256, failure_reason FROM uploads WHERE id = ANY($1::uuid[])',
    uploads.map((a) => a.id),
  );
  for (const ack of uploads) {
    const row = uploadRows.get(ack.id);
    if (!row) {
      u.lost.push(`${ack.id}: acknowledged, no row`);
      continue;
    }
    if (row.status === 'COMPLETED') {
      const hash = createHash('sha256');
      let size = 0;
      try {
        const stream = await minio.getObject(sources.minio.bucket, String(row.final_key));
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          hash.update(chunk);
          size += chunk.length;
        }
      } catch (error) {
        u.lost.push(`${ack.id}: COMPLETED, object ${String(row.final_key)} unreadable: ${String(error)}`);
        continue;
      }
      const digest = hash.digest('hex');
      if (digest !== ack.sha256 || size !== ack.size) {
        u.lost.push(`${ack.id}: COMPLETED, object differs (${size} B, sha256 ${digest.slice(0, 12)}…)`);
      } else u.effected++;
    } else if (row.status === 'FAILED') {
      if (!deadLetter(u, ack.id)) u.deadLettered++;
      const reason = `failed: ${String(row.failure_reason)}`;
      u.reasons[reason] = (u.reasons[reason] ?? 0) + 1;
    } else u.stuck.push(`${ack.id}: ${String(row.status)}`);
  }
  u.notes.push(
    'a merge overwrites one object: a second merge has no observable effect, so duplicates do not apply',
  );
  flows.push(u);

  // ---- stories and exports: the job final; an export's webhook taken once per event ------------
  // A finished job's row may be gone: job retention keeps the newest finished jobs per kind
  // (JOB_KEEP_COMPLETED …). So the outcome is read where it lasts: the story's own enhancement
  // state, and the export's completion webhook at the receiver.
  const stories = acks.filter((a): a is Extract<Ack, { flow: 'story' }> => a.flow === 'story');
  const s = emptyVerdict('story', stories.length);
  const storyRows = await byId(
    'SELECT id::text AS id, enhancement_status, scores_source FROM stories WHERE id = ANY($1::uuid[])',
    stories.map((a) => a.id),
  );
  for (const ack of stories) {
    const row = storyRows.get(ack.id);
    if (!row) s.lost.push(`${ack.id}: acknowledged, no story`);
    else if (row.enhancement_status === 'ENHANCED' && row.scores_source === 'llm') s.effected++;
    else if (row.enhancement_status === 'LLM_UNAVAILABLE' || row.enhancement_status === 'FAILED') {
      if (!deadLetter(s, ack.jobId)) s.deadLettered++;
      const reason = `story ${String(row.enhancement_status)}`;
      s.reasons[reason] = (s.reasons[reason] ?? 0) + 1;
    } else s.stuck.push(`${ack.id}: ${String(row.enhancement_status)}`);
  }
  s.notes.push(
    'effected = the story ENHANCED with the LLM scores; a second scoring overwrites, so duplicates do not apply',
  );
  flows.push(s);

  const exportIds = acks.filter((a) => a.flow === 'export').map((a) => a.id);
  const e = emptyVerdict('export', exportIds.length);
  // The receiver takes each webhook-id once; an export's completion delivered under two ids is a
  // duplicate effect.
  const completions = new Map<string, Set<string>>();
  const taken = new Map<string, number>();
  for (const d of deliveries) {
    if (d.status < 200 || d.status > 299) continue;
    taken.set(d.webhookId, (taken.get(d.webhookId) ?? 0) + 1);
    for (const id of idsIn(d.body)) completions.set(id, (completions.get(id) ?? new Set()).add(d.webhookId));
  }
  const exportRows = await byId(
    'SELECT id::text AS id, status FROM jobs WHERE id = ANY($1::uuid[])',
    exportIds,
  );
  let redelivered = 0;
  let purged = 0;
  for (const id of exportIds) {
    const ids = completions.get(id);
    const row = exportRows.get(id);
    if (ids && ids.size > 1) e.duplicates.push(`${id}: completion webhook under ${ids.size} ids`);
    for (const webhookId of ids ?? []) redelivered += Math.max(0, (taken.get(webhookId) ?? 0) - 1);
    if (ids) {
      e.effected++;
      if (!row) purged++;
    } else if (row?.status === 'FAILED' || row?.status === 'CANCELLED') {
      if (!deadLetter(e, id)) e.deadLettered++;
    } else if (row?.status === 'COMPLETED') e.lost.push(`${id}: COMPLETED, no webhook received`);
    else if (row) e.stuck.push(`${id}: ${String(row.status)}`);
    else e.lost.push(`${id}: acknowledged, no job and no webhook`);
  }
  // The same webhook-id answered 2xx twice is a redelivery, which a Standard Webhooks receiver
  // drops on its id (this receiver's `events` too): reported, not an effect.
  e.notes.push(
    `effected = its completion webhook received (${purged} of those jobs already purged by retention); ` +
      `${redelivered} redelivery(ies) under an id already taken (deduplicated by the receiver on webhook-id)`,
  );
  flows.push(e);

  // ---- outbox probes (F9): every committed row published ---------------------------------------
  const probes = acks.filter((a) => a.flow === 'probe');
  if (probes.length > 0) {
    const p = emptyVerdict('outbox-probe', probes.length);
    const published = await probeIds(sources);
    for (const ack of probes) {
      if (published.has(ack.id)) p.effected++;
      else p.lost.push(`${ack.id}: committed in a long transaction, never published`);
    }
    p.notes.push(
      'Kafka delivery is at least once: a probe published twice is not an effect, so duplicates do not apply',
    );
    flows.push(p);
  }

  // ---- poison (F7): each bad record dead-lettered with a reason ---------------------------------
  const poison = acks.filter((a): a is Extract<Ack, { flow: 'poison' }> => a.flow === 'poison');
  if (poison.length > 0) {
    const q = emptyVerdict('poison', poison.length);
    for (const ack of poison) {
      if (deadLetter(q, ack.id)) q.effected++;
      else q.lost.push(`${ack.id} on ${ack.topic}: not in a DLQ`);
    }
    q.notes.push('effected = dead-lettered with a reason, which is what a poison record must become');
    flows.push(q);
  }
  await pg.end();

  const reasonless = dlq.filter((r) => !r.headers['x-dlq-reason']).length;
  const ok =
    reasonless === 0 &&
    flows.every(
      (f) =>
        f.lost.length === 0 &&
        f.duplicates.length === 0 &&
        f.orderViolations.length === 0 &&
        f.stuck.length === 0,
    );
  return { ok, flows, reasonless, checkedAt: new Date().toISOString() };
}

/** Partition and offset of the records of `topic` whose value names one of `ids`. */
async function locate(
  sources: CheckSources,
  topic: string,
  ids: Set<string>,
): Promise<Map<string, { partition: number; offset: number }>> {
  const found = new Map<string, { partition: number; offset: number }>();
  await readAll(sources, [topic], ({ partition, message }) => {
    for (const id of idsIn(message.value?.toString() ?? '')) {
      if (ids.has(id) && !found.has(id)) found.set(id, { partition, offset: Number(message.offset) });
    }
  });
  return found;
}

/** A consumer group's committed offset per partition of `topic` (-1: none). */
async function committedOffsets(
  sources: CheckSources,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const admin = new Kafka({
    clientId: 'faults-checker-offsets',
    brokers: sources.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** The ids (`x-event-id` header) on the probe topic. */
async function probeIds(sources: CheckSources): Promise<Set<string>> {
  const topic = `${sources.namespace}.fleet.faults.probe.1`;
  const ids = new Set<string>();
  const topics = await namespaceTopics(sources, (t) => t === topic);
  await readAll(
    sources,
    topics,
    ({ message }) => {
      const id = message.headers?.['x-event-id'];
      if (id) ids.add(id.toString());
      for (const found of idsIn(message.value?.toString() ?? '')) ids.add(found);
    },
    60_000,
  );
  return ids;
}

/** The verdict as a short human report, one block per flow. */
export function formatVerdict(verdict: Verdict): string {
  const lines: string[] = [];
  for (const f of verdict.flows) {
    lines.push(
      `${f.flow.padEnd(13)} acknowledged ${f.acknowledged}, effected ${f.effected}, lost ${f.lost.length}, ` +
        `duplicates ${f.duplicates.length}, order violations ${f.orderViolations.length}, stuck ${f.stuck.length}, ` +
        `dead-lettered ${f.deadLettered}` +
        (Object.keys(f.reasons).length
          ? ` (${Object.entries(f.reasons)
              .map(([r, n]) => `${r} ${n}`)
              .join(', ')})`
          : ''),
    );
    for (const item of [...f.lost, ...f.duplicates, ...f.orderViolations, ...f.stuck].slice(0, 10))
      lines.push(`    ${item}`);
  }
  if (verdict.reasonless > 0)
    lines.push(`${verdict.reasonless} dead letter(s) without an x-dlq-reason header`);
  lines.push(verdict.ok ? 'checker: PASS' : 'checker: FAIL');
  return lines.join('\n');
}

if (require.main === module) {
  const runDir = process.argv[2];
  if (!runDir) {
    console.error('usage: checker.ts <run dir> (its sources.json says where the outcome lives)');
    process.exit(2);
  }
  const sources = JSON.parse(readFileSync(join(runDir, 'sources.json'), 'utf8')) as CheckSources;
  check(runDir, sources).then(
    (verdict) => {
      writeFileSync(join(runDir, 'verdict.json'), `${JSON.stringify(verdict, null, 2)}\n`);
      console.log(formatVerdict(verdict));
      process.exit(verdict.ok ? 0 : 1);
    },
    (error: unknown) => {
      console.error(`checker: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(2);
    },
  );
}
