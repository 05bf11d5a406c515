import { Module } from '@nestjs/common';
import { AuthGuard } from '../auth/auth.guard';
import { AuditController } from './audit.controller';
import { DlqController } from './dlq.controller';
import { EventsController } from './events.controller';
import { Ops } from './ops.service';

/**
 * Operating the fleet (`/v1/admin/*`, scope fleet:admin): dead letters browsed, redriven into the
 * failing group only, discarded; an event's life by its id; the audit log. Breakers are in
 * `ops-breakers`, the console and its charts in `ops-console`.
 */
@Module({
  controllers: [DlqController, EventsController, AuditController],
  providers: [AuthGuard, Ops],
  exports: [Ops],
})
export class OpsModule {}
