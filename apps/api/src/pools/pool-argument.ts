import { PoolArgumentError } from '@fleet/pools';
import { badRequest, type ApiError } from '../http/api.errors';

/** The SQL functions' argument names, as the api's request bodies name them. */
const BODY_FIELDS: Readonly<Record<string, string>> = {
  job_type: 'jobType',
  priority: 'priority',
  character_id: 'characterId',
  claimed_by: 'characterId',
  min_level: 'minLevel',
  max_level: 'maxLevel',
  player_level: 'playerLevel',
  location_type: 'locationType',
  campaign_seed: 'campaignSeed',
  location: 'location',
};

/**
 * A refusal of the pools' SQL functions (a bad argument the api's own schema let through, such as
 * a count above the deployment's cap or an unknown campaign) as the 400 `VALIDATION_FAILED` the
 * schema would have given: the same `details` shape, the field named as in the request body.
 * Job parameters keep their seed names (`body.params.count`).
 */
export function rethrowPoolArgument(error: unknown): never {
  if (!(error instanceof PoolArgumentError)) throw error;
  throw poolArgumentToApiError(error);
}

export function poolArgumentToApiError(error: PoolArgumentError): ApiError {
  const field = error.field.startsWith('params') ? error.field : (BODY_FIELDS[error.field] ?? error.field);
  const path = `body.${field}`;
  return badRequest('VALIDATION_FAILED', `invalid body: ${path}: ${error.reason}`, [
    { path, message: error.reason },
  ]);
}
