import { type Admin } from 'kafkajs';

/**
 * Which topics of a claimed batch exist on the cluster, asked with a separate admin client before
 * the producer sees them. Why: once a kafkajs producer is asked to send to a topic that does not
 * exist (auto-creation is off), that topic stays in its metadata targets, and every later metadata
 * refresh fails with "This server does not host this topic-partition" — for every topic, until the
 * process restarts (tulios/kafkajs#815, #1078). One outbox row with a wrong or not yet provisioned
 * topic stalled the whole poller that way (found by the fault campaign, tools/faults F9, in the outbox-poller). With the
 * guard such a row is rejected on its own (its key held back, parked after its attempts) and the
 * producer never learns the name.
 *
 * Topics seen to exist are remembered for good. A missing one is asked about again at its next
 * claim (or after `recheckMs`, when given): its row backs off between claims, so that costs one
 * metadata request per retry, and a topic provisioned before an operator's replay is found at once.
 */
export class TopicGuard {
  private readonly known = new Set<string>();
  private readonly missingSince = new Map<string, number>();
  private connected: Promise<void> | undefined;

  constructor(
    private readonly admin: Pick<Admin, 'connect' | 'listTopics'>,
    private readonly recheckMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  /** Topics known to exist without asking (e.g. the ones just provisioned). */
  remember(topics: Iterable<string>): void {
    for (const topic of topics) this.known.add(topic);
  }

  /** The topics of `topics` that do not exist; throws when the cluster cannot be asked. */
  async missing(topics: Iterable<string>): Promise<Set<string>> {
    const unknown = [...new Set(topics)].filter((t) => !this.known.has(t));
    if (unknown.length === 0) return new Set();
    const t = this.now();
    const due = unknown.filter((topic) => {
      const since = this.missingSince.get(topic);
      return since === undefined || t - since >= this.recheckMs;
    });
    if (due.length > 0) {
      let names: string[];
      try {
        await (this.connected ??= this.admin.connect());
        names = await this.admin.listTopics();
      } catch (error) {
        this.connected = undefined; // connect again next time
        throw error;
      }
      const existing = new Set(names);
      for (const topic of due) {
        if (existing.has(topic)) {
          this.known.add(topic);
          this.missingSince.delete(topic);
        } else this.missingSince.set(topic, t);
      }
    }
    return new Set(unknown.filter((topic) => !this.known.has(topic)));
  }
}
