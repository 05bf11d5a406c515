/**
 * The fault campaign's mixed workload, as a client of the api would drive it: chat messages on
 * many conversations (each conversation's messages one after another, the order to keep), chunked
 * uploads, stories scored on the LLM and engine exports with a signed webhook. A request is
 * retried with the same idempotency key while the api answers 5xx or the connection fails; only a
 * 2xx is logged to `acks.jsonl`: that log is the checker's list of promises made.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { request } from 'undici';
import { type Ack } from './checker';

export interface WorkloadTarget {
  apiUrl: string;
  token(sub: string): Promise<string>;
}

export interface WorkloadOptions {
  /** Conversations sending in parallel. */
  conversations: number;
  /** Pause between one conversation's messages, ms. */
  messageGapMs: number;
  /** A new upload every … ms (0: none). */
  uploadEveryMs: number;
  /** A new story every … ms (0: none). */
  storyEveryMs: number;
  /** A new export every … ms (0: none); needs `mapJobId`. */
  exportEveryMs: number;
  mapJobId?: string;
  callbackUrl?: string;
  /** Seeds the content, so a run can be compared with another. */
  seed: number;
}

export interface WorkloadStats {
  acked: Record<string, number>;
  /** 5xx answers and connection failures that were retried. */
  retried: number;
  /** Requests given up (never acknowledged): not promises, so not the checker's business. */
  abandoned: number;
  /** 4xx answers to requests meant to be valid: a workload or api bug, printed. */
  refused: string[];
}

type Answer = { status: number; body: unknown };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Workload {
  readonly stats: WorkloadStats = { acked: {}, retried: 0, abandoned: 0, refused: [] };
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly target: WorkloadTarget,
    private readonly options: WorkloadOptions,
    private readonly ackFile: string,
  ) {}

  ack(entry: Ack): void {
    appendFileSync(this.ackFile, `${JSON.stringify(entry)}\n`);
    this.stats.acked[entry.flow] = (this.stats.acked[entry.flow] ?? 0) + 1;
  }

  /**
   * One api call, retried (same body, same idempotency key) on 5xx, 429 and connection errors
   * for up to `patienceMs`; undefined when given up.
   */
  private async send(
    token: string,
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: Buffer | string | object,
    headers: Record<string, string> = {},
    patienceMs = 120_000,
  ): Promise<Answer | undefined> {
    const deadline = Date.now() + patienceMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const raw = Buffer.isBuffer(body) || typeof body === 'string';
        const response = await request(`${this.target.apiUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined
              ? {}
              : {
                  'content-type': Buffer.isBuffer(body)
                    ? 'application/octet-stream'
                    : raw
                      ? 'text/markdown'
                      : 'application/json',
                }),
            ...headers,
          },
          body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        const text = await response.body.text();
        if (response.statusCode < 500 && response.statusCode !== 429) {
          return { status: response.statusCode, body: text ? (JSON.parse(text) as unknown) : undefined };
        }
      } catch {
        // the api restarting, or PostgreSQL down under it: retried below
      }
      if (!this.running && attempt > 0 && Date.now() > deadline - patienceMs / 2) return undefined;
      if (Date.now() > deadline) return undefined;
      this.stats.retried++;
      await sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)));
    }
  }

  private refused(what: string, answer: Answer): void {
    this.stats.refused.push(`${what}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
  }

  start(): void {
    this.running = true;
    for (let c = 0; c < this.options.conversations; c++) this.loops.push(this.chatLoop(c));
    if (this.options.uploadEveryMs > 0)
      this.loops.push(this.every(this.options.uploadEveryMs, (i) => this.upload(i)));
    if (this.options.storyEveryMs > 0)
      this.loops.push(this.every(this.options.storyEveryMs, (i) => this.story(i)));
    if (this.options.exportEveryMs > 0 && this.options.mapJobId)
      this.loops.push(this.every(this.options.exportEveryMs, (i) => this.export(i)));
  }

  /** Stops sending; resolves once every request in flight has finished or been given up. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async every(ms: number, work: (i: number) => Promise<void>): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; this.running; i++) {
      const job = work(i).catch((error: unknown) => {
        this.stats.refused.push(`crash in the workload: ${String(error)}`);
      });
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
      await sleep(ms);
    }
    await Promise.all(inFlight);
  }

  private async chatLoop(c: number): Promise<void> {
    const token = await this.target.token(`faults-chat-${c}`);
    const conversation = await this.send(token, 'POST', '/v1/conversations', {
      participants: [],
      channel: 'whatsapp',
      recipients: { whatsapp: `+1557${String(c).padStart(7, '0')}` },
    });
    if (!conversation || conversation.status !== 201) {
      if (conversation) this.refused(`conversation ${c}`, conversation);
      else this.stats.abandoned++;
      return;
    }
    const conversationId = (conversation.body as { id: string }).id;
    const run = randomBytes(3).toString('hex');
    for (let n = 0; this.running; n++) {
      const answer = await this.send(
        token,
        'POST',
        `/v1/conversations/${conversationId}/messages`,
        { text: `faults c${c} n${n} seed ${this.options.seed}` },
        { 'idempotency-key': `faults-${run}-c${c}-n${n}` },
      );
      if (!answer) {
        // Never acknowledged: the next message must not overtake a message that may still land,
        // so this conversation stops here.
        this.stats.abandoned++;
        return;
      }
      if (answer.status !== 202) {
        this.refused(`message c${c} n${n}`, answer);
        return;
      }
      this.ack({
        flow: 'chat',
        id: (answer.body as { id: string }).id,
        key: conversationId,
        n,
        at: Date.now(),
      });
      await sleep(this.options.messageGapMs);
    }
  }

  private async upload(i: number): Promise<void> {
    const token = await this.target.token(`faults-upload-${i % 8}`);
    // Every fourth upload has two chunks, so file-merge composes in MinIO; the others have one.
    const size = i % 4 === 3 ? 5 * 1024 * 1024 + 100_003 : 150_000 + ((i * 7919) % 50_000);
    const bytes = Buffer.alloc(size, `upload ${i} seed ${this.options.seed} `);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const created = await this.send(token, 'POST', '/v1/uploads', {
      filename: `faults-${i}.txt`,
      size,
      contentType: 'text/plain',
      sha256,
    });
    if (!created || created.status !== 201) {
      if (created) this.refused(`upload ${i}`, created);
      else this.stats.abandoned++;
      return;
    }
    const upload = created.body as { id: string; chunkSize: number; chunkCount: number };
    for (let n = upload.chunkCount - 1; n >= 0; n--) {
      const chunk = bytes.subarray(n * upload.chunkSize, (n + 1) * upload.chunkSize);
      const put = await this.send(token, 'PUT', `/v1/uploads/${upload.id}/chunks/${n}`, chunk);
      if (!put || put.status >= 300) {
        if (put) this.refused(`upload ${i} chunk ${n}`, put);
        else this.stats.abandoned++;
        return;
      }
    }
    const done = await this.send(token, 'POST', `/v1/uploads/${upload.id}/complete`);
    if (!done || done.status >= 300) {
      if (done) this.refused(`upload ${i} complete`, done);
      else this.stats.abandoned++;
      return;
    }
    this.ack({ flow: 'upload', id: upload.id, sha256, size, at: Date.now() });
  }

  private async story(i: number): Promise<void> {
    const token = await this.target.token(`faults-story-${i % 4}`);
    // No idempotency key on stories: a retry after a lost answer may make a second story, which
    // is a second (acknowledged) request, not a duplicate effect.
    const created = await this.send(token, 'POST', '/v1/stories', {
      title: `Faults ${this.options.seed}/${i}: a breakthrough`,
      content: `Story ${i} of the fault campaign, scored on the LLM.`,
    });
    if (!created || created.status !== 201) {
      if (created) this.refused(`story ${i}`, created);
      else this.stats.abandoned++;
      return;
    }
    const body = created.body as { story: { id: string }; jobId: string };
    this.ack({ flow: 'story', id: body.story.id, jobId: body.jobId, at: Date.now() });
  }

  private async export(i: number): Promise<void> {
    const token = await this.target.token('faults-designer');
    const created = await this.send(
      token,
      'POST',
      '/v1/exports',
      {
        project_id: this.options.mapJobId,
        engines: ['godot'],
        quality: 'low',
        callback_url: this.options.callbackUrl,
      },
      { 'idempotency-key': `faults-${this.options.seed}-export-${i}-${randomBytes(3).toString('hex')}` },
    );
    if (!created || created.status >= 300) {
      if (created) this.refused(`export ${i}`, created);
      else this.stats.abandoned++;
      return;
    }
    this.ack({ flow: 'export', id: (created.body as { exportId: string }).exportId, at: Date.now() });
  }
}
