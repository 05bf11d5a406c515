import { Kafka, logLevel } from 'kafkajs';
import { type RuntimeLogger, kafkaLogCreator } from './logger';

export interface KafkaClientOptions {
  /** Bootstrap brokers, e.g. `['127.0.0.1:9092']`. */
  brokers: string[];
  /** Identifies this service in broker logs and quotas. */
  clientId: string;
  logger: RuntimeLogger;
  /** @defaultValue 10000 */
  connectionTimeoutMs?: number;
  /** @defaultValue 30000 */
  requestTimeoutMs?: number;
  /**
   * Retries of one operation before it fails. The default rides out a broker restart (~1 min);
   * a producer behind a circuit breaker wants a few, so a dead broker surfaces in seconds and the
   * breaker, not the client, decides when to try again. @defaultValue 8
   */
  retries?: number;
}

export function createKafkaClient(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(options.logger),
    // Reconnects ride out broker restarts: ~1 min of retries before an operation gives up.
    retry: { initialRetryTime: 300, retries: options.retries ?? 8, maxRetryTime: 30_000 },
  });
}
