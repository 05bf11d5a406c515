import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { sqlOf, type DataSource } from '@fleet/db';
import { JobStore } from '@fleet/jobs';
import { consumerLag, type KafkaClient } from '@fleet/kafka';
import { type Logger } from '@fleet/observability';
import { KAFKA_CLIENT, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { DATA_SOURCE } from '../app.tokens';
import { AuthGuard, ScopeGuard } from '../auth/auth.guard';
import { ADMIN_SCOPE } from '../auth/jwt-verifier';
import { type Config } from '../config';
import { errorResponse, openApiSchema } from '../http/openapi';
import { fleetLagScope, type LagScope } from './fleet-lag-scope';
import { queuesViewSchema, type QueuesView } from './ops-console.schemas';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/queues')
@UseGuards(AuthGuard, new ScopeGuard(ADMIN_SCOPE))
export class QueuesController {
  private readonly scope: LagScope;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(JobStore) private readonly jobs: JobStore,
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_CONFIG) config: Config,
  ) {
    this.scope = fleetLagScope(config.KAFKA_TOPIC_NAMESPACE);
  }

  /**
   * The broker is read apart from the database: an operator looking at queues during a Kafka
   * outage still gets the job counts, and the reason the lag is missing.
   */
  @Get()
  @ApiOperation({
    summary: 'Job queues and consumer lag',
    description:
      'Jobs per kind and status (`GET /v1/jobs/stats`), and the lag of every consumer group reading ' +
      "this fleet's topics, read from the broker (committed offsets against high watermarks) — a group " +
      'none of whose members runs shows too (`state: Empty`). When the broker cannot be read, ' +
      '`consumerLag` says why and the jobs are still answered. Requires the `fleet:admin` scope.',
  })
  @ApiResponse({ status: 200, description: 'Queues.', schema: openApiSchema(queuesViewSchema, 'output') })
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, 'The token lacks the fleet:admin scope.'))
  async queues(): Promise<QueuesView> {
    const [jobs, lag] = await Promise.all([
      this.jobs.stats(sqlOf(this.dataSource.manager)),
      consumerLag(this.kafka, this.scope).then(
        (groups) => ({ status: 'ok' as const, groups }),
        (error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          this.logger.warn({ err: error }, 'consumer lag unavailable');
          return { status: 'unavailable' as const, reason: `the broker could not be read: ${reason}` };
        },
      ),
    ]);
    return { at: new Date().toISOString(), jobs, consumerLag: lag };
  }
}
