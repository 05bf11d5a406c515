export const ROUTE_METRICS = Symbol('ROUTE_METRICS');
