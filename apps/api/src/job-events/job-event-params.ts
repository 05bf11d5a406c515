import { badRequest } from '../http/api.errors';
import { uuidParam } from '../chat/chat.schemas';

/** Most jobs a user stream may name in `since`. */
export const SINCE_MAX_JOBS = 50;

const SEQ = /^\d{1,15}$/;

/** `lastSeq` (or an SSE `Last-Event-ID`): the last seq the client saw, 0 (the default) for none. */
export function parseLastSeq(value: string | null | undefined, name = 'lastSeq'): number {
  if (value === null || value === undefined || value === '') return 0;
  if (!SEQ.test(value)) {
    throw badRequest(
      'VALIDATION_FAILED',
      `${name} must be a non-negative integer (the last seq received), got "${value}"`,
    );
  }
  return Number(value);
}

/**
 * `since=<jobId>:<seq>,<jobId>:<seq>…` of the user stream: the jobs whose missed events the client
 * wants replayed, each with the last seq it saw. At most {@link SINCE_MAX_JOBS}.
 */
export function parseSince(value: string | null | undefined): Record<string, number> {
  if (value === null || value === undefined || value.trim() === '') return {};
  const pairs = value.split(',');
  if (pairs.length > SINCE_MAX_JOBS) {
    throw badRequest('VALIDATION_FAILED', `since names ${pairs.length} jobs; at most ${SINCE_MAX_JOBS}`);
  }
  const since: Record<string, number> = {};
  for (const pair of pairs) {
    const [id, seq, extra] = pair.trim().split(':');
    const jobId = uuidParam.safeParse(id);
    if (!jobId.success || seq === undefined || extra !== undefined || !SEQ.test(seq)) {
      throw badRequest(
        'VALIDATION_FAILED',
        `since must be a comma list of <job id>:<last seq>, got "${pair.trim()}"`,
      );
    }
    since[jobId.data] = Math.max(since[jobId.data] ?? 0, Number(seq));
  }
  return since;
}
