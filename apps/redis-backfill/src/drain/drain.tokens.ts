export const DRAIN_METRICS = Symbol('DRAIN_METRICS');
