export {
  LlmClient,
  type CompleteJsonRequest,
  type CompleteJsonResult,
  type LlmClientOptions,
  type LlmEndpointOptions,
  type LlmLogger,
  type LlmReadiness,
} from './client';
export {
  DEFAULT_LOCAL_LLM_ENDPOINT,
  llmEnv,
  llmEnvIssues,
  llmOptionsFromEnv,
  refineLlmEnv,
  type LlmEnv,
  type LlmOptionsFromEnvIo,
} from './config';
export { type ChatMessage, type LlmBreakerOptions } from './endpoint';
export {
  LlmAbortedError,
  LlmError,
  LlmModelNotAvailableError,
  LlmOutputError,
  LlmRequestError,
  LlmUnavailableError,
  type LlmEndpointRole,
  type LlmErrorCode,
  type OutputFailure,
  type OutputFailureReason,
  type UnavailableReason,
} from './errors';
export { strictJsonSchema, type JsonSchema } from './json-schema';
export { llmMetrics, type LlmMetrics, type RequestOutcome } from './metrics';
export { Semaphore } from './semaphore';
