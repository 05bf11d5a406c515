/**
 * The PKCS#11 plumbing both the signer and key generation need: one initialized module per path
 * per process, a logged-in session on the token with a given label, object lookup, and turning a
 * token's public key into a node:crypto key. Internal to this lib.
 */
import { endianness } from 'node:os';
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  CKA_EC_PARAMS,
  CKA_EC_POINT,
  CKF_OS_LOCKING_OK,
  CKF_RW_SESSION,
  CKF_SERIAL_SESSION,
  CKK_EC,
  CKR_CRYPTOKI_ALREADY_INITIALIZED,
  CKR_PIN_INCORRECT,
  CKR_PIN_LEN_RANGE,
  CKR_PIN_LOCKED,
  CKR_USER_ALREADY_LOGGED_IN,
  CKU_USER,
  PKCS11,
  Pkcs11Error,
  type Handle,
  type Template,
} from 'pkcs11js';
import { type SignatureAlgorithm } from './signer';

/** PKCS#11 3.0 EdDSA constants, which pkcs11js (written to 2.40) does not export. */
export const CKK_EC_EDWARDS = 0x40;
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
export const CKM_EDDSA = 0x1057;

/** DER of the curve OIDs as CKA_EC_PARAMS holds them: id-Ed25519 (1.3.101.112), prime256v1. */
export const ED25519_EC_PARAMS = Buffer.from('06032b6570', 'hex');
export const P256_EC_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');

/** SPKI DER prefixes: the algorithm identifiers and BIT STRING header before the raw key bytes. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** Where a key lives: the PKCS#11 module, the token's label and the user PIN. */
export interface TokenAccess {
  modulePath: string;
  tokenLabel: string;
  pin: string;
}

/** A loaded, initialized module and who uses it in this process. */
interface LoadedModule {
  readonly pkcs11: PKCS11;
  users: number;
  /** False when someone else had initialized it: then they finalize it, not us. */
  readonly finalizes: boolean;
  /** Sessions logged in per slot (hex id): PKCS#11 login state is per token, not per session. */
  readonly logins: Map<string, number>;
}

/**
 * Modules by path. A module is one library per process: a second C_Initialize fails with
 * CKR_CRYPTOKI_ALREADY_INITIALIZED and a C_Finalize ends every session, so signers and key
 * generation share one initialization, counted, and the last to leave finalizes.
 */
const modules = new Map<string, LoadedModule>();

/** The message of anything thrown, for wrapping native errors in ones that say what was tried. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether `error` is the PKCS#11 return value `code`. */
export function isCkr(error: unknown, code: number): boolean {
  return error instanceof Pkcs11Error && error.code === code;
}

/** Loads and initializes `modulePath`, or joins the process's existing use of it. */
function acquireModule(modulePath: string): LoadedModule {
  const existing = modules.get(modulePath);
  if (existing) {
    existing.users++;
    return existing;
  }
  const pkcs11 = new PKCS11();
  try {
    pkcs11.load(modulePath);
  } catch (error) {
    throw new Error(`PKCS#11: cannot load module ${modulePath}: ${reasonOf(error)}`);
  }
  let finalizes = true;
  try {
    // OS locking: signatures run on libuv's thread pool (C_SignAsync) while other sessions are
    // used from the main thread, so the library must lock for itself.
    pkcs11.C_Initialize({ flags: CKF_OS_LOCKING_OK });
  } catch (error) {
    if (!isCkr(error, CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
      pkcs11.close();
      throw new Error(`PKCS#11: C_Initialize of ${modulePath} failed: ${reasonOf(error)}`);
    }
    finalizes = false;
  }
  const loaded: LoadedModule = { pkcs11, users: 1, finalizes, logins: new Map() };
  modules.set(modulePath, loaded);
  return loaded;
}

/** Leaves the module; the last user finalizes and unloads it (best effort: it is going away). */
function releaseModule(modulePath: string, loaded: LoadedModule): void {
  if (--loaded.users > 0) return;
  modules.delete(modulePath);
  try {
    if (loaded.finalizes) loaded.pkcs11.C_Finalize();
  } finally {
    loaded.pkcs11.close();
  }
}

/** The slot holding the token labelled `label` (token labels are blank-padded to 32 bytes). */
function findSlot(pkcs11: PKCS11, access: TokenAccess): Handle {
  const seen: string[] = [];
  for (const slot of pkcs11.C_GetSlotList(true)) {
    const label = pkcs11.C_GetTokenInfo(slot).label.trim();
    if (label === access.tokenLabel.trim()) return slot;
    seen.push(JSON.stringify(label));
  }
  throw new Error(
    `PKCS#11: no token labelled "${access.tokenLabel}" in ${access.modulePath} (tokens: ${seen.join(', ') || 'none'})`,
  );
}

/** C_Login as the user, with the PIN failures said in words. Never includes the PIN. */
function login(pkcs11: PKCS11, session: Handle, access: TokenAccess): void {
  try {
    pkcs11.C_Login(session, CKU_USER, access.pin);
  } catch (error) {
    // Another session of this process is logged in to the token: this one shares that login.
    if (isCkr(error, CKR_USER_ALREADY_LOGGED_IN)) return;
    const token = `token "${access.tokenLabel}"`;
    if (isCkr(error, CKR_PIN_INCORRECT))
      throw new Error(`PKCS#11: wrong PIN for ${token} (CKR_PIN_INCORRECT)`);
    if (isCkr(error, CKR_PIN_LOCKED))
      throw new Error(`PKCS#11: the user PIN of ${token} is locked (CKR_PIN_LOCKED)`);
    if (isCkr(error, CKR_PIN_LEN_RANGE)) {
      throw new Error(`PKCS#11: the PIN for ${token} has a length the token refuses (CKR_PIN_LEN_RANGE)`);
    }
    throw new Error(`PKCS#11: login to ${token} failed: ${reasonOf(error)}`);
  }
}

/** A session on one token, logged in as the user. Not safe for concurrent operations. */
export class TokenSession {
  private closed = false;

  private constructor(
    readonly pkcs11: PKCS11,
    readonly slot: Handle,
    readonly session: Handle,
    readonly access: TokenAccess,
    private readonly module: LoadedModule,
  ) {}

  /**
   * Opens a session on the token and logs in. Read-only is enough to sign (token objects are
   * used, not changed); creating keys needs `readWrite`.
   */
  static open(access: TokenAccess, options: { readWrite: boolean }): TokenSession {
    const module = acquireModule(access.modulePath);
    const { pkcs11 } = module;
    let session: Handle | undefined;
    try {
      const slot = findSlot(pkcs11, access);
      session = pkcs11.C_OpenSession(slot, CKF_SERIAL_SESSION | (options.readWrite ? CKF_RW_SESSION : 0));
      login(pkcs11, session, access);
      const slotKey = slot.toString('hex');
      module.logins.set(slotKey, (module.logins.get(slotKey) ?? 0) + 1);
      return new TokenSession(pkcs11, slot, session, access, module);
    } catch (error) {
      if (session) pkcs11.C_CloseSession(session);
      releaseModule(access.modulePath, module);
      throw error;
    }
  }

  /** Every object matching `template` (C_FindObjects in batches until none are left). */
  findObjects(template: Template): Handle[] {
    const found: Handle[] = [];
    this.pkcs11.C_FindObjectsInit(this.session, template);
    try {
      for (let batch = this.pkcs11.C_FindObjects(this.session, 16); batch.length > 0;) {
        found.push(...batch);
        batch = this.pkcs11.C_FindObjects(this.session, 16);
      }
    } finally {
      this.pkcs11.C_FindObjectsFinal(this.session);
    }
    return found;
  }

  /** One attribute's raw bytes. */
  attribute(object: Handle, type: number): Buffer {
    const [result] = this.pkcs11.C_GetAttributeValue(this.session, object, [{ type }]);
    if (!result) throw new Error(`PKCS#11: attribute 0x${type.toString(16)} was not returned`);
    return result.value;
  }

  /** A CK_ULONG attribute (CKA_KEY_TYPE, CKA_CLASS): native-endian, 4 or 8 bytes. */
  ulongAttribute(object: Handle, type: number): number {
    const bytes = this.attribute(object, type);
    const le = endianness() === 'LE';
    if (bytes.length === 8) return Number(le ? bytes.readBigUInt64LE(0) : bytes.readBigUInt64BE(0));
    if (bytes.length === 4) return le ? bytes.readUInt32LE(0) : bytes.readUInt32BE(0);
    throw new Error(`PKCS#11: attribute 0x${type.toString(16)} is ${bytes.length} bytes, not a CK_ULONG`);
  }

  /** The mechanisms the token offers. */
  mechanisms(): number[] {
    return this.pkcs11.C_GetMechanismList(this.slot);
  }

  /**
   * Logs out (when no other session of this process still needs the token's login), closes the
   * session and leaves the module. Best effort past the first failure: the session is gone either way.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const slotKey = this.slot.toString('hex');
    const logins = (this.module.logins.get(slotKey) ?? 1) - 1;
    try {
      if (logins > 0) {
        this.module.logins.set(slotKey, logins);
      } else {
        this.module.logins.delete(slotKey);
        this.pkcs11.C_Logout(this.session);
      }
    } catch {
      // Already logged out (the token was removed or reset): closing the session still matters.
    }
    try {
      this.pkcs11.C_CloseSession(this.session);
    } finally {
      releaseModule(this.access.modulePath, this.module);
    }
  }

  /**
   * The public key object `publicKey` (a CKO_PUBLIC_KEY of `keyType`) as a node:crypto key, so
   * verifying needs no HSM. CKA_EC_POINT is a DER OCTET STRING around the point in PKCS#11 (and
   * SoftHSM2 2.6), but some tokens return the bare point: both are read.
   */
  publicKeyOf(publicKey: Handle, keyType: number): KeyObject {
    const point = this.attribute(publicKey, CKA_EC_POINT);
    if (keyType === CKK_EC_EDWARDS) {
      const raw = unwrapOctetString(point, 32);
      return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    }
    if (keyType === CKK_EC) {
      const params = this.attribute(publicKey, CKA_EC_PARAMS);
      if (!params.equals(P256_EC_PARAMS)) {
        throw new Error(
          `PKCS#11: EC key on curve ${params.toString('hex')} is not P-256; only P-256 (ES256) is supported`,
        );
      }
      const raw = unwrapOctetString(point, 65);
      if (raw[0] !== 0x04) throw new Error('PKCS#11: EC point is not uncompressed (0x04)');
      return createPublicKey({ key: Buffer.concat([P256_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    }
    throw new Error(`PKCS#11: key type 0x${keyType.toString(16)} has no supported public key form`);
  }
}

/** The signature algorithm of a PKCS#11 key type, or an error naming the type. */
export function algorithmOfKeyType(keyType: number, keyLabel: string): SignatureAlgorithm {
  if (keyType === CKK_EC_EDWARDS) return 'Ed25519';
  if (keyType === CKK_EC) return 'ES256';
  throw new Error(
    `PKCS#11: key "${keyLabel}" has key type 0x${keyType.toString(16)}; only Ed25519 (CKK_EC_EDWARDS) and EC P-256 (CKK_EC) keys sign manifests`,
  );
}

/** `bytes` without a DER OCTET STRING header (`04 <len>`) around `length` key bytes, if it has one. */
function unwrapOctetString(bytes: Buffer, length: number): Buffer {
  if (bytes.length === length) return bytes;
  if (bytes.length === length + 2 && bytes[0] === 0x04 && bytes[1] === length) return bytes.subarray(2);
  throw new Error(
    `PKCS#11: CKA_EC_POINT of ${bytes.length} bytes is neither ${length} key bytes nor an OCTET STRING of them`,
  );
}
