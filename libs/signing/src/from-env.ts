/**
 * Choosing and building the exporter's signer from its environment (the table in README.md).
 */
import { readFileSync } from 'node:fs';
import { LocalKeySigner } from './local-signer';
import { Pkcs11Signer } from './pkcs11-signer';
import { type ManifestSigner } from './signer';

type Env = NodeJS.ProcessEnv | Record<string, string | undefined>;

/**
 * The signer `env` describes. `EXPORT_SIGNER=local` (the default) reads an Ed25519 PKCS#8 PEM from
 * `EXPORT_SIGNING_KEY_PEM` or `EXPORT_SIGNING_KEY_FILE`; `EXPORT_SIGNER=pkcs11` opens
 * `PKCS11_KEY_LABEL` on token `PKCS11_TOKEN_LABEL` of module `PKCS11_MODULE`, logging in with
 * `PKCS11_PIN` or the contents of `PKCS11_PIN_FILE`.
 *
 * Missing or contradictory settings throw naming the variables. There is deliberately no random
 * fallback key: bundles signed with a key nobody kept could never be verified after a restart.
 */
export async function signerFromEnv(env: Env): Promise<ManifestSigner> {
  const kind = value(env, 'EXPORT_SIGNER') ?? 'local';
  if (kind === 'local') return localSignerFromEnv(env);
  if (kind === 'pkcs11') {
    return Pkcs11Signer.open({
      modulePath: required(env, 'PKCS11_MODULE'),
      tokenLabel: required(env, 'PKCS11_TOKEN_LABEL'),
      pin: oneOf(env, 'PKCS11_PIN', 'PKCS11_PIN_FILE', (path) =>
        readFile(path, 'PKCS11_PIN_FILE').replace(/\r?\n$/, ''),
      ),
      keyLabel: required(env, 'PKCS11_KEY_LABEL'),
    });
  }
  throw new Error(`EXPORT_SIGNER must be "local" or "pkcs11", got "${kind}"`);
}

/** The local signer, its PEM from the variable or the file. */
function localSignerFromEnv(env: Env): LocalKeySigner {
  const pem = oneOf(env, 'EXPORT_SIGNING_KEY_PEM', 'EXPORT_SIGNING_KEY_FILE', (path) =>
    readFile(path, 'EXPORT_SIGNING_KEY_FILE'),
  );
  // A PEM pasted into a one-line secret often arrives with its newlines as literal `\n`.
  return LocalKeySigner.fromPem(pem.includes('\n') ? pem : pem.replaceAll('\\n', '\n'));
}

/** `env[name]`, an empty string counting as unset (as `FOO=` in an env file means). */
function value(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** `env[name]`, or an error naming it. */
function required(env: Env, name: string): string {
  const v = value(env, name);
  if (v === undefined) throw new Error(`EXPORT_SIGNER=pkcs11 needs ${name}`);
  return v;
}

/** The value given directly (`direct`) or through a file (`file`, read by `read`): exactly one. */
function oneOf(env: Env, direct: string, file: string, read: (path: string) => string): string {
  const inline = value(env, direct);
  const path = value(env, file);
  if (inline !== undefined && path !== undefined) throw new Error(`set only one of ${direct} and ${file}`);
  if (inline !== undefined) return inline;
  if (path !== undefined) return read(path);
  const signer = value(env, 'EXPORT_SIGNER') ?? 'local';
  throw new Error(`EXPORT_SIGNER=${signer} needs ${direct} or ${file}`);
}

/** A secret file's contents, or an error naming the variable that pointed at it. */
function readFile(path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `${variable}=${path}: cannot read it (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}
