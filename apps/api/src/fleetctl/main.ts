/**
 * fleetctl: the fleet's admin CLI over the api's `/v1/admin` routes (dead letters and redrive, an
 * event's life, breakers, audit). `node dist/apps/api/fleetctl.js --help`, or `npm run -s fleetctl --`.
 * Exit codes: 0 ok, 1 the api refused or could not be reached (its code and message printed), 2 usage.
 */
import { createInterface } from 'node:readline/promises';
import { runFleetctl } from './program';

/** A yes/no prompt on the terminal; only when stdin is one. */
async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}

runFleetctl(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  ...(process.stdin.isTTY ? { confirm } : {}),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `fleetctl: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
