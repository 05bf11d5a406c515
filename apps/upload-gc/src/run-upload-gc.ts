import { SpanStatusCode, trace } from '@opentelemetry/api';
import { connectDataSource } from '@fleet/db';
import { createObjectStore } from '@fleet/object-store';
import { createLogger, createMetricsRegistry, type Logger, type TracingHandle } from '@fleet/observability';
import { UploadStore } from '@fleet/uploads';
import { objectStoreCall } from './collect/chunk-objects';
import { collectAbandonedUploads, type CollectResult } from './collect/collect-abandoned.use-case';
import { errorKind, isProgrammerError, messageOf, UploadGcError } from './collect/gc.errors';
import { gcMetrics, type GcMetrics } from './collect/gc.metrics';
import { type Config } from './config';
import { printMetrics, pushMetrics } from './report/metrics-report';
import { exitCodeOf, StopSignal } from './stop-signal';

const tracer = trace.getTracer('upload-gc');

/** How a run ended, and its exit code: 0, 1, or 128 + the signal's number (143 for SIGTERM). */
export type RunOutcome = 'succeeded' | 'failed' | 'interrupted';

export interface RunIo {
  /** Started by `instrumentation.ts`; flushed before the exit code is returned. */
  tracing: TracingHandle;
}

/**
 * One garbage-collection run, start to exit code. Logs go to stderr; stdout carries only the run's
 * metrics in Prometheus text format, printed whatever the outcome, and pushed to the Pushgateway
 * when `GC_PUSHGATEWAY_URL` is set. A failed push is logged and changes nothing else: the cleanup
 * it reports is committed either way, and the printed metrics still carry it.
 */
export async function runUploadGc(config: Config, io: RunIo): Promise<number> {
  const started = performance.now();
  const logger = createLogger({
    serviceName: config.SERVICE_NAME,
    level: config.LOG_LEVEL,
    destination: process.stderr,
  });
  // No process metrics: they would describe a process that is gone, forever, in the Pushgateway.
  const registry = createMetricsRegistry({ serviceName: config.SERVICE_NAME, collectDefaultMetrics: false });
  const metrics = gcMetrics(registry);
  const stop = new StopSignal(logger).install();
  logger.info(
    {
      retentionHours: config.GC_RETENTION_HOURS,
      batchSize: config.GC_BATCH_SIZE,
      schema: config.DATABASE_SCHEMA,
      bucket: config.MINIO_BUCKET,
    },
    'upload-gc run started',
  );

  let outcome: RunOutcome;
  let result: CollectResult | undefined;
  try {
    result = await tracer.startActiveSpan('upload-gc run', async (span) => {
      try {
        const collected = await collect(config, logger, metrics, stop);
        span.setAttributes({ 'upload_gc.cleaned': collected.cleaned, 'upload_gc.bytes': collected.bytes });
        return collected;
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
        throw error;
      } finally {
        span.end();
      }
    });
    outcome = result.interrupted ? 'interrupted' : 'succeeded';
  } catch (error) {
    outcome = 'failed';
    metrics.errors.inc({ kind: errorKind(error) });
    logger.error(
      { err: error, code: error instanceof UploadGcError ? error.code : undefined },
      'upload-gc run failed; what it had not committed is left for the next run',
    );
  }

  const durationSeconds = (performance.now() - started) / 1000;
  metrics.runDuration.set(durationSeconds);
  if (outcome === 'succeeded') metrics.markSuccess(new Date());
  logger.info(
    {
      outcome,
      cleaned: result?.cleaned,
      bytesReclaimed: result?.bytes,
      batches: result?.batches,
      durationMs: Math.round(durationSeconds * 1000),
    },
    'upload-gc run finished',
  );

  await printMetrics(registry, writeStdout);
  if (config.GC_PUSHGATEWAY_URL) {
    const gateway = URL.parse(config.GC_PUSHGATEWAY_URL)?.host;
    try {
      await pushMetrics(registry, { url: config.GC_PUSHGATEWAY_URL, jobName: config.SERVICE_NAME });
      logger.debug({ gateway }, 'metrics pushed');
    } catch (error) {
      logger.error(
        { err: error, gateway },
        'metrics push failed; the exit code still reports the run itself',
      );
    }
  }
  await io.tracing.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'span export failed'));
  if (outcome === 'succeeded') return 0;
  return outcome === 'failed' ? 1 : exitCodeOf(stop.signal ?? 'SIGTERM');
}

async function collect(
  config: Config,
  logger: Logger,
  metrics: GcMetrics,
  stop: StopSignal,
): Promise<CollectResult> {
  const objects = createObjectStore(config);
  // Checked even when nothing is abandoned: a wrong bucket or key shows on a quiet night too.
  await objectStoreCall('object store check', () => objects.ping());
  const dataSource = await connectDataSource({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    applicationName: config.SERVICE_NAME,
    // One transaction at a time.
    poolSize: 1,
    logger,
  }).catch((error: unknown) => {
    if (isProgrammerError(error)) throw error;
    throw new UploadGcError('DATABASE_FAILED', 'connecting to the database failed', { cause: error });
  });
  try {
    return await collectAbandonedUploads({
      dataSource,
      objects,
      uploads: new UploadStore(),
      logger,
      metrics,
      retentionHours: config.GC_RETENTION_HOURS,
      batchSize: config.GC_BATCH_SIZE,
      stopRequested: () => stop.requested,
    });
  } finally {
    await dataSource
      .destroy()
      .catch((error: unknown) => logger.warn({ err: error }, 'closing the database pool failed'));
  }
}

/** Resolves once the text is handed to the OS, so `process.exit` right after cannot cut it short. */
function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) =>
    process.stdout.write(text, (error) => (error ? reject(error) : resolve())),
  );
}
