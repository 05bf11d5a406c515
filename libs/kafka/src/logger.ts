import { logLevel, type logCreator } from 'kafkajs';

/** The slice of a pino-style logger this lib needs (the observability lib's logger satisfies it). */
export interface RuntimeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  fatal(obj: object, msg?: string): void;
}

/**
 * KafkaJS warnings about choices this runtime makes on purpose, logged at debug instead:
 * - bounded retries on the idempotent producer: a send must fail (and let the circuit breaker
 *   open) rather than retry forever while the broker is down; a resend after such a failure may
 *   duplicate a record, which consumers absorb through the event id.
 */
const DELIBERATE = ['Limiting retries for the idempotent producer'];

/** Routes KafkaJS's own logs into the service logger, so they carry trace ids and one format. */
export function kafkaLogCreator(logger: RuntimeLogger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const fields = { component: 'kafkajs', ...extra };
      if (DELIBERATE.some((prefix) => message.startsWith(prefix))) logger.debug(fields, message);
      else if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
      else if (level === logLevel.INFO) logger.info(fields, message);
      else logger.debug(fields, message);
    };
}
