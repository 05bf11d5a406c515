import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { ALL_TOPICS, groupInNamespace, inNamespace } from '@fleet/contracts';
import { sqlOf, type DataSource, type Sql } from '@fleet/db';
import { type Logger } from '@fleet/observability';
import {
  DeadLetterIndexer,
  DeadLetterStore,
  discardDeadLetters,
  EventLifeQuery,
  jaegerTraceUrl,
  Redriver,
  type Selection,
} from '@fleet/ops';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER, type GuardedProducer } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { DATA_SOURCE, GUARDED_PRODUCER } from '../app.tokens';
import { type Config } from '../config';
import { businessRowLookup } from './business-rows';

const START_RETRY_MS = 5_000;

/**
 * This replica's part in operating the fleet: the dead-letter index it reads (and, with
 * OPS_INDEXER=1, keeps up to date in the `fleet-ops-indexer` group shared by every replica), the
 * redriver and the event-life query.
 */
@Injectable()
export class Ops implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly deadLetters: DeadLetterStore;
  readonly redriver: Redriver;
  readonly eventLife: EventLifeQuery;
  private readonly sql: Sql;
  private indexer: DeadLetterIndexer | undefined;
  private starting: Promise<void> | undefined;
  private stopping = false;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(GUARDED_PRODUCER) private readonly kafka: GuardedProducer,
    @Inject(DATA_SOURCE) dataSource: DataSource,
  ) {
    const sql = sqlOf(dataSource.manager);
    this.sql = sql;
    this.deadLetters = new DeadLetterStore(sql);
    this.redriver = new Redriver({
      sql,
      producer: kafka.producer,
      logger,
      registry,
      redriveCap: config.OPS_REDRIVE_CAP,
      defaultRatePerSecond: config.OPS_REDRIVE_RATE_PER_SECOND,
    });
    this.eventLife = new EventLifeQuery({
      sql,
      kafka: kafka.kafka,
      jaegerUiUrl: config.JAEGER_UI_URL,
      businessRow: businessRowLookup(sql),
    });
  }

  discard(selection: Selection, actor: string, reason: string): Promise<number> {
    return discardDeadLetters(this.sql, this.registry, selection, actor, reason);
  }

  /** The Jaeger link of a trace, when the UI is configured. */
  jaegerUrl(traceId: string | null): string | null {
    return jaegerTraceUrl(this.config.JAEGER_UI_URL, traceId);
  }

  onApplicationBootstrap(): void {
    if (this.config.OPS_INDEXER === 0) {
      this.logger.info({}, 'dead-letter indexer disabled (OPS_INDEXER=0)');
      return;
    }
    this.starting = this.startWithRetry();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.starting;
    await this.indexer?.stop();
    await this.redriver.drain();
  }

  private async startWithRetry(): Promise<void> {
    const namespace = this.config.KAFKA_TOPIC_NAMESPACE;
    while (!this.stopping) {
      const indexer = new DeadLetterIndexer({
        kafka: this.kafka.kafka,
        sql: this.sql,
        contracts: ALL_TOPICS.map((t) => inNamespace(t, namespace)),
        logger: this.logger,
        registry: this.registry,
        groupId: groupInNamespace('fleet-ops-indexer', namespace),
        redriveCap: this.config.OPS_REDRIVE_CAP,
      });
      try {
        if (!this.kafka.producer.isConnected) await this.kafka.producer.connect();
        await indexer.start();
        this.indexer = indexer;
        this.logger.info({ topics: ALL_TOPICS.length }, 'dead-letter indexer joined');
        return;
      } catch (error) {
        this.logger.warn(
          { err: error, retryInMs: START_RETRY_MS },
          'dead-letter indexer could not start; retrying',
        );
        await indexer.stop().catch(() => undefined);
        await sleep(START_RETRY_MS, undefined, { ref: false });
      }
    }
  }
}
