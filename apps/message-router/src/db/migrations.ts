import { type MigrationClass } from '@fleet/db';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { CreateRouterDeliveries1764200000000 } from './1764200000000-CreateRouterDeliveries';
import { AddRouterDeliveryConfirmations1764300000000 } from './1764300000000-AddRouterDeliveryConfirmations';
import { AddRouterDeliveryRedrive1765300000000 } from './1765300000000-AddRouterDeliveryRedrive';

/**
 * Everything the router's schema needs: its own table and the outbox it writes statuses to
 * (idempotent by name when the api applied the outbox migrations to the same schema first).
 */
export const ROUTER_MIGRATIONS: readonly MigrationClass[] = [
  ...OUTBOX_MIGRATIONS,
  CreateRouterDeliveries1764200000000,
  AddRouterDeliveryConfirmations1764300000000,
  AddRouterDeliveryRedrive1765300000000,
];
