import { type DataSource, sqlOf, type Sql } from '@fleet/db';
import { JobRejected, type JobAttempt, type JobKind } from '@fleet/job-worker';
import { type LlmClient } from '@fleet/llm';
import { poolJobInputSchemas, type PoolStore } from '@fleet/pools';
import { z } from 'zod';

/** What the LLM answers for a session. */
export const SessionSummarySchema = z.object({
  summary: z.string().trim().min(1).max(1200),
  key_events: z.array(z.string().trim().min(1).max(200)).max(10),
});

const SYSTEM_PROMPT =
  'You keep the memory of a role-playing game. Summarize what the character said and did in these ' +
  'chat messages in at most five sentences, in the third person, and list the key events. Answer with JSON only.';

/** Longest message text sent to the model (characters); the rest is cut. */
const MAX_MESSAGE_CHARS = 1_000;

/**
 * `summarize_session {character_id, message_count}` (seed 001, after logout): the character's last
 * N chat messages from the fleet's own conversations (the `messages` table, by sender) → the LLM's
 * summary and key events → `session_summaries`, once per job. A character with no messages is a
 * job no retry can fix (FAILED, `NO_MESSAGES`).
 */
export class SummarizeSession implements JobKind {
  readonly kind = 'summarize_session';
  private readonly sql: Sql;
  private readonly input;

  constructor(
    private readonly deps: { dataSource: DataSource; store: PoolStore; llm: LlmClient; maxCount: number },
  ) {
    this.sql = sqlOf(deps.dataSource.manager);
    this.input = poolJobInputSchemas(deps.maxCount).summarize_session;
  }

  async run({ job, signal, progress }: JobAttempt): Promise<{ summaryId: string; messageCount: number }> {
    const parsed = this.input.safeParse(job.input);
    if (!parsed.success) {
      throw new JobRejected(
        'INPUT_INVALID',
        `summarize_session input: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    }
    const { character_id: characterId, message_count: count } = parsed.data;
    await progress(10, 'load');
    const messages = await this.deps.store.recentMessages(this.sql, characterId, count);
    if (messages.length === 0) {
      throw new JobRejected('NO_MESSAGES', `character ${characterId} has no chat messages to summarize`);
    }
    await progress(20, 'summarize');
    const answer = await this.deps.llm.completeJson({
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        {
          role: 'user',
          content: messages
            .map((m) => `[${m.createdAt.toISOString()}] ${m.text.slice(0, MAX_MESSAGE_CHARS)}`)
            .join('\n'),
        },
      ],
      schema: SessionSummarySchema,
      schemaName: 'session_summary',
      temperature: 0.3,
      maxTokens: 800,
      signal,
    });
    signal.throwIfAborted();
    await progress(90, 'save');
    const summaryId = await this.deps.store.saveSummary(this.sql, {
      jobId: job.id,
      characterId,
      messageCount: messages.length,
      firstMessageAt: messages[0]?.createdAt,
      lastMessageAt: messages.at(-1)?.createdAt,
      summary: answer.value.summary,
      keyEvents: answer.value.key_events,
      model: answer.model,
    });
    return { summaryId, messageCount: messages.length };
  }
}
