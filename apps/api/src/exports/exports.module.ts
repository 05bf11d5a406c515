import { Module } from '@nestjs/common';
import { ExportStore } from '@fleet/exports';
import { AuthGuard } from '../auth/auth.guard';
import { JobsModule } from '../jobs/jobs.module';
import { CreateExport } from './create-export.use-case';
import { ExportKeysController, ExportsController } from './exports.controller';

/**
 * Export bundles (seed 002): requests, their status and downloads, cancel, and the public keys of
 * the manifests. The bundles are built by the `exporter` worker; progress events are the job
 * platform's (the jobs WebSocket and SSE).
 */
@Module({
  imports: [JobsModule],
  // The keys' route first: `/v1/exports/keys` is not an export id.
  controllers: [ExportKeysController, ExportsController],
  providers: [AuthGuard, { provide: ExportStore, useFactory: () => new ExportStore() }, CreateExport],
})
export class ExportsModule {}
