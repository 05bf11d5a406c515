/**
 * upload-gc: a run-to-completion command (a Kubernetes CronJob, daily at 02:00) that fails uploads
 * abandoned in UPLOADING and deletes their chunks. Exit 0 done, 1 failed, 143/130 stopped by
 * SIGTERM/SIGINT after the batch in flight. stdout: the run's metrics; stderr: JSON logs.
 */
import { tracing } from './instrumentation';
import { loadConfigOrExit } from '@fleet/config';
import { configSchema } from './config';
import { runUploadGc } from './run-upload-gc';

const config = loadConfigOrExit(configSchema, process.env);
runUploadGc(config, { tracing }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Only a bug gets here (runUploadGc reports its own failures); say so and fail the job.
    process.stderr.write(`upload-gc crashed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
