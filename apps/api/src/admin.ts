/**
 * The api's operator CLI (`node dist/apps/api/admin.js <command>`), local development only:
 *
 *   mint-token <user-id> [ttl-seconds] [--scope "<scope> …"]
 *       prints a bearer token signed with the dev key pair; `--scope fleet:operator` grants the
 *       operator routes (POST /v1/pool-jobs, POST /v1/campaigns)
 *
 * Reads `AUTH_DEV_KEY_DIR`, `AUTH_JWT_ISSUER`, `AUTH_JWT_AUDIENCE` (defaults: apps/api/local.env's
 * values), so a token minted here is accepted by an api started by `tools/fleet up`.
 */
import { parseArgs } from 'node:util';
import { mintDevToken } from './auth/mint-token';

const USAGE = 'usage: admin mint-token <user-id> [ttl-seconds] [--scope "<scope> …"]\n';

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { scope: { type: 'string' } },
    });
  } catch (error) {
    process.stderr.write(`admin: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const [command, userId, ttl, ...rest] = parsed.positionals;
  const scope = parsed.values.scope;
  if (
    command !== 'mint-token' ||
    !userId ||
    rest.length > 0 ||
    (ttl !== undefined && !/^\d+$/.test(ttl)) ||
    (scope !== undefined && !/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(scope))
  ) {
    process.stderr.write(USAGE);
    return 2;
  }
  const token = await mintDevToken({
    userId,
    keyDir: process.env.AUTH_DEV_KEY_DIR ?? '.local/api/dev-keys',
    issuer: process.env.AUTH_JWT_ISSUER ?? 'fleet-local',
    audience: process.env.AUTH_JWT_AUDIENCE ?? 'fleet-api',
    ttlS: ttl === undefined ? 3600 : Number(ttl),
    ...(scope === undefined ? {} : { scope }),
  });
  process.stdout.write(`${token}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`admin: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
