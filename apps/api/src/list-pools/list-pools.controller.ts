import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { sqlOf, type DataSource } from '@fleet/db';
import { PoolStore } from '@fleet/pools';
import { DATA_SOURCE } from '../app.tokens';
import { AuthGuard } from '../auth/auth.guard';
import { errorResponse, openApiSchema } from '../http/openapi';
import { poolLevelsSchema, toPoolLevelView, type PoolLevelsView } from '../pools/pools.schemas';

@ApiTags('pools')
@ApiBearerAuth()
@Controller('v1/pools')
@UseGuards(AuthGuard)
export class ListPoolsController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(PoolStore) private readonly store: PoolStore,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Every content pool: level, minimum, batch and refill jobs',
    description:
      'The four global pools (quests, npcs, encounters, dungeons) and the POI pool of each active campaign, ' +
      'with the generation jobs waiting and running for each. Sizes are the pool-filler’s configuration ' +
      '(POOL_<POOL>_MIN, POOL_<POOL>_BATCH); until a pool-filler has started, the seed’s.',
  })
  @ApiResponse({ status: 200, description: 'The pools.', schema: openApiSchema(poolLevelsSchema, 'output') })
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  async list(): Promise<PoolLevelsView> {
    const levels = await this.store.levels(sqlOf(this.dataSource.manager));
    return { pools: levels.map(toPoolLevelView) };
  }
}
