/** The operator's side of the breaker control (`BreakerFleet` of `@fleet/redis`) on the api's Redis. */
export const BREAKER_FLEET = Symbol('BREAKER_FLEET');
