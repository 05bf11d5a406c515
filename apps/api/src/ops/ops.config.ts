import { envInt, envUrl } from '@fleet/config';
import { z } from 'zod';

/** The api's settings for operating the fleet (`/v1/admin/*`, the ops console). */
export const opsEnv = z.object({
  /** 1: this replica runs the dead-letter indexer (group `fleet-ops-indexer`); 0: it only serves. */
  OPS_INDEXER: envInt({ min: 0, max: 1 }).default(1),
  /** Redrives a dead letter may have; one that comes back to the DLQ after this many is parked. */
  OPS_REDRIVE_CAP: envInt({ min: 1, max: 100 }).default(3),
  /** Records per second a redrive sends when the request names no rate. */
  OPS_REDRIVE_RATE_PER_SECOND: envInt({ min: 1, max: 10_000 }).default(500),
  /** Jaeger's UI, for the trace links of dead letters and event lives (`…/trace/<id>`). Unset: no links. */
  JAEGER_UI_URL: envUrl({ protocols: ['http', 'https'] }).optional(),
});
