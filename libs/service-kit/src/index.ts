export {
  installGracefulShutdown,
  type GracefulShutdownOptions,
  type ShutdownLogger,
  type ShutdownStep,
} from './shutdown';
