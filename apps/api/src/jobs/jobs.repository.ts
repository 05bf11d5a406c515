import { type Sql } from '@fleet/db';
import { type Job, type JobStore } from '@fleet/jobs';
import { type Story, type StoryStore } from '@fleet/stories';
import { parseId } from '../chat/chat.schemas';
import { notFound } from '../http/api.errors';

/** A path's job id, parsed: malformed → 400 `INVALID_ID`. */
export const parseJobId = (value: unknown): string => parseId(value, 'job id');
/** A path's story id, parsed: malformed → 400 `INVALID_ID`. */
export const parseStoryId = (value: unknown): string => parseId(value, 'story id');

/**
 * The caller's job. Another user's job answers 404 like an unknown one (a 403 would confirm the
 * id exists), as `JobStore.cancel` does.
 */
export async function ownJob(store: JobStore, sql: Sql, id: string, userId: string): Promise<Job> {
  const job = await store.get(sql, id);
  if (!job || job.ownerId !== userId) throw notFound(`job ${id} not found`);
  return job;
}

/** The caller's story; another user's answers 404 like an unknown one. */
export async function ownStory(store: StoryStore, sql: Sql, id: string, userId: string): Promise<Story> {
  const story = await store.get(sql, id);
  if (!story || story.ownerId !== userId) throw notFound(`story ${id} not found`);
  return story;
}
