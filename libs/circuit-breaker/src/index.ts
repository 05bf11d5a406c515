export {
  BREAKER_STATE_VALUE,
  Breaker,
  BreakerOpenError,
  type BreakerLogger,
  type BreakerOptions,
  type BreakerState,
} from './breaker';
