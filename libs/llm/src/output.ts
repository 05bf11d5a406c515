import { z } from 'zod';
import { type OutputFailureReason } from './errors';

const EXCERPT_CHARS = 200;

/** The parts of one chat completion choice that decide whether its output is usable. */
export interface CompletionAnswer {
  content: string | null;
  /** `stop`, `length`, `content_filter`, … as the server said; `null` when it said nothing. */
  finishReason: string | null;
  /** OpenAI's structured-output refusal text, when the model declined. */
  refusal?: string | null;
}

export type StructuredOutput<T> =
  { ok: true; value: T } | { ok: false; reason: OutputFailureReason; detail: string; excerpt: string };

/**
 * Reads one answer as the structured output `schema` describes. Order matters: a truncated answer
 * is reported as truncated even when the cut happens to leave valid JSON, because the model did not
 * finish what it meant to say.
 */
export function parseStructuredOutput<S extends z.ZodType>(
  answer: CompletionAnswer,
  schema: S,
): StructuredOutput<z.output<S>> {
  const content = answer.content ?? '';
  const excerpt = excerptOf(content);
  const fail = (reason: OutputFailureReason, detail: string): StructuredOutput<z.output<S>> => ({
    ok: false,
    reason,
    detail,
    excerpt,
  });

  if (answer.refusal) return fail('refusal', `the model refused: ${excerptOf(answer.refusal)}`);
  if (answer.finishReason === 'content_filter')
    return fail('refusal', 'the answer was filtered (content_filter)');
  if (answer.finishReason === 'length') {
    return fail(
      'truncated',
      `the answer hit the token limit after ${content.length} characters (finish_reason: length)`,
    );
  }
  const text = unfence(content);
  if (text === '') return fail('empty', 'the answer has no content');

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail('invalid_json', `not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    return fail(
      'schema_mismatch',
      `does not match the schema: ${z.prettifyError(result.error).replace(/\n/g, ' ')}`,
    );
  }
  return { ok: true, value: result.data };
}

/**
 * Some OpenAI-compatible servers wrap JSON in a Markdown code fence even in JSON mode; one fence
 * around the whole answer is taken off, nothing else is repaired.
 */
function unfence(content: string): string {
  const trimmed = content.trim();
  const fenced = /^```[a-zA-Z]*\s*\n([\s\S]*?)\n?```$/.exec(trimmed);
  return (fenced ? fenced[1] : trimmed).trim();
}

function excerptOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}
