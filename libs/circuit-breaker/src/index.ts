export {
  BREAKER_FORCED_VALUE,
  BREAKER_STATE_VALUE,
  Breaker,
  BreakerOpenError,
  type BreakerCounts,
  type BreakerLogger,
  type BreakerOptions,
  type BreakerOverride,
  type BreakerOverrideMode,
  type BreakerState,
} from './breaker';
export { breakersOf, onBreakerBuilt } from './registry';
