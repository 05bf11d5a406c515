import { type MigrationClass } from '@fleet/db';
import { EXPORT_MIGRATIONS } from '@fleet/exports';
import { OPS_MIGRATIONS } from '@fleet/ops';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { JOB_MIGRATIONS } from '@fleet/jobs';
import { POOL_MIGRATIONS } from '@fleet/pools';
import { STORY_MIGRATIONS } from '@fleet/stories';
import { UPLOAD_MIGRATIONS } from '@fleet/uploads';
import { CreateChat1764100000000 } from './1764100000000-CreateChat';
import { ApplyStatusFunction1764500000000 } from './1764500000000-ApplyStatusFunction';
import { SendMessageFunction1764800000000 } from './1764800000000-SendMessageFunction';
import { MessagesBySender1765000000001 } from './1765000000001-MessagesBySender';
import { ApplyStatusOnRedrive1765300000000 } from './1765300000000-ApplyStatusOnRedrive';

/**
 * Every migration of the api's data source: the outbox table (written in the same transactions),
 * the chat tables, the upload tables (file-merge and upload-gc work on them too), the jobs and
 * stories tables (the generation worker works on them), the content pools (the pool-filler fills them), the exports' requests and signing keys:
 * the api's migrate command creates them all.
 */
export const API_MIGRATIONS: readonly MigrationClass[] = [
  ...OUTBOX_MIGRATIONS,
  CreateChat1764100000000,
  ...UPLOAD_MIGRATIONS,
  ApplyStatusFunction1764500000000,
  ...JOB_MIGRATIONS,
  ...STORY_MIGRATIONS,
  SendMessageFunction1764800000000,
  ...POOL_MIGRATIONS,
  MessagesBySender1765000000001,
  ...EXPORT_MIGRATIONS,
  ...OPS_MIGRATIONS,
  ApplyStatusOnRedrive1765300000000,
];
