export {
  FAKE_LLM_FAULT_KINDS,
  FakeLlmServer,
  estimateTokens,
  type FakeLlmBusy,
  type FakeLlmCall,
  type FakeLlmFaultKind,
  type FakeLlmOutcome,
  type FakeLlmRequest,
  type FakeLlmResponder,
  type FakeLlmServerOptions,
  type FakeLlmSpeed,
} from './fake/fake-server';
export { busyMsWithin, epochMs, type BusyInterval, type BusyKind } from './fake/busy';
export { fnv1a, sampleFromJsonSchema } from './fake/schema-sample';
