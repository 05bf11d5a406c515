export { ConfigError, type ConfigErrorCode, type ConfigIssue } from './config.errors';
export { loadConfigOrExit, parseConfig, type Env, type ExitIo } from './config';
export {
  LOG_LEVELS,
  baseServiceEnv,
  envBoolean,
  envDurationMs,
  envInt,
  envList,
  envPort,
  envUrl,
  type BaseServiceEnv,
  type EnvIntOptions,
  type EnvUrlOptions,
  type LogLevelName,
} from './env';
