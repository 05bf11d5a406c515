export const MERGE_METRICS = Symbol('MERGE_METRICS');
