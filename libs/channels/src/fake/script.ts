import { type DeliveryChannel, DELIVERY_CHANNELS } from '@fleet/contracts';
import { z } from 'zod';
import { type FakeChannelCall } from './types';

/**
 * One scripted answer. Without `status` (or with a 2xx status and no `body`) the call is accepted as
 * usual: an id is assigned and status webhooks follow; `delayMs` then only slows the answer down.
 */
export interface ScriptedResponse {
  /**
   * HTTP status to answer with.
   * @defaultValue 200 (accept the message)
   */
  status?: number;
  /**
   * Wait this long before answering (to make a connector time out).
   * @defaultValue 0
   */
  delayMs?: number;
  /**
   * Answer this instead: a string is sent as is (a non-JSON body), anything else as JSON. An
   * accepting status with a body records no channel message id and sends no webhooks.
   * @defaultValue a Graph-style error body for the status, or the channel's success body
   */
  body?: unknown;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** `Retry-After` header value: seconds, or an HTTP-date string. */
  retryAfter?: number | string;
  /**
   * For an accepted message: `normal` status webhooks, `failed` (WhatsApp: `sent` then `failed`
   * with error 131026; Instagram sends no failure webhooks, so none), or `none`.
   * @defaultValue `'normal'`
   */
  callbacks?: 'normal' | 'failed' | 'none';
}

/** A rule of the script: which calls it answers, with what, and what happens when it runs out. */
export interface ScriptRule {
  /** Only calls on this channel. @defaultValue both channels */
  channel?: DeliveryChannel;
  /** Only calls for which this returns true (it sees the call before its status is known). */
  match?: (call: FakeChannelCall) => boolean;
  /** Answers, one per matching call, in order. At least one. */
  responses: ScriptedResponse[];
  /**
   * After the last response: `succeed` retires the rule (later calls are accepted as usual);
   * `repeat-last` answers every later matching call with the last response.
   * @defaultValue `'succeed'`
   */
  then?: 'succeed' | 'repeat-last';
}

const scriptedResponseSchema = z.strictObject({
  status: z.number().int().min(200).max(599).optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  body: z.unknown().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  retryAfter: z.union([z.number().int().min(0), z.string().min(1)]).optional(),
  callbacks: z.enum(['normal', 'failed', 'none']).optional(),
});

/** A script rule as JSON (`POST /_fake/script`): functions replaced by `to` and `textContains`. */
export const httpScriptRuleSchema = z.strictObject({
  channel: z.enum(DELIVERY_CHANNELS).optional(),
  to: z.string().min(1).optional(),
  textContains: z.string().min(1).optional(),
  responses: z.array(scriptedResponseSchema).min(1),
  then: z.enum(['succeed', 'repeat-last']).optional(),
});
export type HttpScriptRule = z.infer<typeof httpScriptRuleSchema>;

/** Turns a JSON rule into a {@link ScriptRule}. */
export function ruleFromHttp(rule: HttpScriptRule): ScriptRule {
  const { to, textContains, ...rest } = rule;
  return {
    ...rest,
    match: (call) =>
      (to === undefined || call.to === to) &&
      (textContains === undefined || (call.text ?? '').includes(textContains)),
  };
}

interface ActiveRule {
  id: number;
  rule: ScriptRule;
  used: number;
}

/** The scripted rules, first match wins; a rule that ran out with `then: 'succeed'` is dropped. */
export class ScriptBook {
  private rules: ActiveRule[] = [];
  private nextId = 1;

  add(rule: ScriptRule): number {
    if (rule.responses.length === 0) throw new RangeError('a script rule needs at least one response');
    for (const response of rule.responses) scriptedResponseSchema.parse(response);
    const id = this.nextId++;
    this.rules.push({ id, rule: { ...rule, responses: [...rule.responses] }, used: 0 });
    return id;
  }

  /** The scripted answer for `call`, consuming it; undefined when no rule matches. */
  take(call: FakeChannelCall): ScriptedResponse | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.channel !== undefined && rule.channel !== call.channel) continue;
      // A throwing matcher is a bug in the test; it must not become a 500 that looks like a channel outage.
      if (rule.match && !safeMatch(rule.match, call)) continue;
      const response = rule.responses[Math.min(active.used, rule.responses.length - 1)];
      active.used += 1;
      if (active.used >= rule.responses.length && (rule.then ?? 'succeed') === 'succeed') {
        this.rules = this.rules.filter((r) => r !== active);
      }
      return response;
    }
    return undefined;
  }

  clear(): void {
    this.rules = [];
  }

  get size(): number {
    return this.rules.length;
  }
}

function safeMatch(match: (call: FakeChannelCall) => boolean, call: FakeChannelCall): boolean {
  try {
    return match(call) === true;
  } catch {
    return false;
  }
}
