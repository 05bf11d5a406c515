/**
 * `@fleet/signing/testing`: a real SoftHSM2 token in a temporary directory, for suites that sign
 * through PKCS#11 without an HSM.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A token made by {@link startSoftHsmToken}. */
export interface SoftHsmToken {
  modulePath: string;
  tokenLabel: string;
  pin: string;
  /** The temporary directory holding `softhsm2.conf` and `tokens/`. */
  dir: string;
  /** `EXPORT_SIGNER=pkcs11` and the PKCS11_* variables for this token (add PKCS11_KEY_LABEL). */
  env: Record<string, string>;
  /** Restores SOFTHSM2_CONF and deletes the directory. Close signers on the token first. */
  close(): Promise<void>;
}

let modulePath: string | undefined;

/**
 * The SoftHSM2 PKCS#11 module's path, installing SoftHSM2 if missing (`tools/infra tool softhsm2`,
 * idempotent; it prints the path last).
 */
export function softHsmModulePath(): string {
  if (modulePath) return modulePath;
  const infra = resolve(__dirname, '../../../tools/infra');
  const output = execFileSync('bash', [infra, 'tool', 'softhsm2'], { encoding: 'utf8' });
  const path = output.trim().split('\n').at(-1)?.trim();
  if (!path) throw new Error('tools/infra tool softhsm2 printed no module path');
  modulePath = path;
  return path;
}

/**
 * Initializes a fresh SoftHSM2 token in a temporary directory of its own.
 *
 * SoftHSM2 reads `SOFTHSM2_CONF` when the module is initialized (C_Initialize), and a process loads
 * the module once: this sets `process.env.SOFTHSM2_CONF`, so one token configuration per process at
 * a time — close every signer (which finalizes the module) before starting another token.
 */
export async function startSoftHsmToken(
  options: { label?: string; pin?: string; soPin?: string } = {},
): Promise<SoftHsmToken> {
  const path = softHsmModulePath();
  const tokenLabel = options.label ?? `test-${randomBytes(4).toString('hex')}`;
  const pin = options.pin ?? randomBytes(4).toString('hex');
  const soPin = options.soPin ?? randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'softhsm-'));
  const conf = join(dir, 'softhsm2.conf');
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(
    conf,
    `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  const previous = process.env.SOFTHSM2_CONF;
  try {
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', tokenLabel, '--pin', pin, '--so-pin', soPin],
      { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  process.env.SOFTHSM2_CONF = conf;
  return {
    modulePath: path,
    tokenLabel,
    pin,
    dir,
    env: {
      EXPORT_SIGNER: 'pkcs11',
      PKCS11_MODULE: path,
      PKCS11_TOKEN_LABEL: tokenLabel,
      PKCS11_PIN: pin,
      SOFTHSM2_CONF: conf,
    },
    async close() {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
