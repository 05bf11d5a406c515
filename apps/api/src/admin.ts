/**
 * The api's operator CLI (`node dist/apps/api/admin.js <command>`), local development only:
 *
 *   mint-token <user-id> [ttl-seconds]   prints a bearer token signed with the dev key pair
 *
 * Reads `AUTH_DEV_KEY_DIR`, `AUTH_JWT_ISSUER`, `AUTH_JWT_AUDIENCE` (defaults: apps/api/local.env's
 * values), so a token minted here is accepted by an api started by `tools/fleet up`.
 */
import { mintDevToken } from './auth/mint-token';

const USAGE = 'usage: admin mint-token <user-id> [ttl-seconds]\n';

async function main(argv: readonly string[]): Promise<number> {
  const [command, userId, ttl] = argv;
  if (command !== 'mint-token' || !userId || (ttl !== undefined && !/^\d+$/.test(ttl))) {
    process.stderr.write(USAGE);
    return 2;
  }
  const token = await mintDevToken({
    userId,
    keyDir: process.env.AUTH_DEV_KEY_DIR ?? '.local/api/dev-keys',
    issuer: process.env.AUTH_JWT_ISSUER ?? 'fleet-local',
    audience: process.env.AUTH_JWT_AUDIENCE ?? 'fleet-api',
    ttlS: ttl === undefined ? 3600 : Number(ttl),
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
