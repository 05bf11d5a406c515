import { Module } from '@nestjs/common';
import { PoolStore } from '@fleet/pools';
import { AuthGuard } from '../auth/auth.guard';
import { CampaignsController } from '../campaigns/campaigns.controller';
import { ClaimPoolItemController } from '../claim-pool-item/claim-pool-item.controller';
import { ClaimPoolItem } from '../claim-pool-item/claim-pool-item.use-case';
import { CreatePoolJobController } from '../create-pool-job/create-pool-job.controller';
import { CreatePoolJob } from '../create-pool-job/create-pool-job.use-case';
import { ListPoolsController } from '../list-pools/list-pools.controller';

/**
 * Content pools (seed 001): players' claims, pool levels, campaigns, and operators' pool-filler
 * jobs. The pools are filled by the `pool-filler` worker; this module only reads and claims them.
 */
@Module({
  controllers: [ClaimPoolItemController, ListPoolsController, CreatePoolJobController, CampaignsController],
  providers: [
    AuthGuard,
    { provide: PoolStore, useFactory: () => new PoolStore() },
    ClaimPoolItem,
    CreatePoolJob,
  ],
})
export class PoolsModule {}
