import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type IP = ipaddr.IPv4 | ipaddr.IPv6;

/** An allowlisted host name: the URL's host must equal it (lowercase, trailing dot ignored). */
export interface AllowlistHost {
  readonly kind: 'host';
  readonly host: string;
}

/** An allowlisted address range; a bare IP is a /32 (IPv4) or /128 (IPv6). */
export interface AllowlistCidr {
  readonly kind: 'cidr';
  readonly range: readonly [IP, number];
  /** The entry as written, for messages. */
  readonly text: string;
}

/** One entry of `EXPORT_CALLBACK_ALLOWLIST`: the exceptions an operator made to the SSRF rule. */
export type AllowlistEntry = AllowlistHost | AllowlistCidr;

/** Resolves a host to every address it has (the shape of `dns.promises.lookup(host, { all: true })`). */
export type HostLookup = (host: string) => Promise<{ address: string; family: number }[]>;

/** What `checkCallbackUrl` concluded: the URL and the addresses it may be reached at, or why not. */
export type UrlCheck =
  | { ok: true; url: URL; addresses: string[] }
  | {
      ok: false;
      code: 'INVALID_URL' | 'SCHEME' | 'CREDENTIALS' | 'RESOLVE_FAILED' | 'BLOCKED_ADDRESS';
      reason: string;
      /** Set on a RESOLVE_FAILED that may pass on a later try (DNS server down, EAI_AGAIN). */
      transient?: true;
    };

/** The setting named in refusals, so the reader knows where the exception goes. */
export const DEFAULT_ALLOWLIST_SETTING = 'EXPORT_CALLBACK_ALLOWLIST';

/**
 * Cloud metadata endpoints. Each is already in a blocked range (linkLocal, carrierGradeNat,
 * uniqueLocal); they are named so a refusal says what the request would have reached.
 */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', 'fd00:ec2::254']);

/** IPv6 global unicast. ipaddr.js calls unassigned space (`::a.b.c.d`, `4000::`) 'unicast' too. */
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

/** DNS failures worth another try later; anything else (ENOTFOUND, ENODATA) won't fix itself soon. */
const TRANSIENT_DNS_CODES = new Set(['EAI_AGAIN', 'ETIMEOUT', 'ETIMEDOUT', 'ESERVFAIL', 'ECONNREFUSED']);

const HOST_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
/** A last label WHATWG URL would read as a number, making the host an IPv4 address. */
const NUMERIC_LABEL = /^(?:0x[0-9a-f]*|\d+)$/;

/** An IPv4-mapped IPv6 address is the IPv4 address as far as routing goes: judge it as one. */
function unmap(ip: IP): IP {
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()
    ? (ip as ipaddr.IPv6).toIPv4Address()
    : ip;
}

/** Same, for a CIDR written in IPv4-mapped form (`::ffff:10.0.0.0/104`). */
function unmapRange([ip, bits]: [IP, number]): [IP, number] {
  const plain = unmap(ip);
  return plain === ip ? [ip, bits] : [plain, Math.max(0, bits - 96)];
}

/** One allowlist entry, or an error naming it. */
function parseEntry(text: string): AllowlistEntry {
  if (text.includes('/')) {
    if (!ipaddr.isValidCIDR(text)) throw new Error(`allowlist entry "${text}" is not a valid CIDR`);
    return { kind: 'cidr', range: unmapRange(ipaddr.parseCIDR(text)), text };
  }
  if (isIP(text) !== 0) {
    const ip = ipaddr.parse(text);
    return { kind: 'cidr', range: unmapRange([ip, ip.kind() === 'ipv4' ? 32 : 128]), text };
  }
  const host = text.replace(/\.$/, '');
  const labels = host.split('.');
  if (host.length > 253 || !labels.every((label) => HOST_LABEL.test(label))) {
    throw new Error(`allowlist entry "${text}" is neither a host name nor an IP address / CIDR`);
  }
  if (NUMERIC_LABEL.test(labels[labels.length - 1] ?? '')) {
    // URL turns such a host into an IPv4 address, so the name would never match: write the IP.
    throw new Error(`allowlist entry "${text}" looks like a numeric IPv4 form; write it as a.b.c.d`);
  }
  return { kind: 'host', host };
}

/**
 * Parses the comma-separated allowlist setting (`"127.0.0.1/32,localhost,hooks.internal"`):
 * host names (matched exactly, case-insensitively) and IPs / CIDRs. Blank entries are skipped so
 * a trailing comma is harmless; anything else unparseable throws naming the entry, so a typo
 * fails the boot instead of silently allowing nothing.
 */
export function parseAllowlist(raw: string | undefined): AllowlistEntry[] {
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry.length > 0)
    .map(parseEntry);
}

/** Why one address may or may not be called. */
export interface AddressVerdict {
  address: string;
  /** ipaddr.js's range name, e.g. 'private', 'loopback', 'unicast'. */
  range: string;
  blocked: boolean;
  ip: IP | undefined;
}

/**
 * Judges one resolved address: only public unicast passes. Anything ipaddr.js names otherwise
 * (loopback, private, linkLocal, uniqueLocal, carrierGradeNat, reserved, multicast, unspecified,
 * broadcast, 6to4, rfc6052 NAT64, teredo, …) is blocked, because a tunnel or translation prefix
 * can carry the packet to an internal IPv4 address.
 */
export function classifyAddress(address: string): AddressVerdict {
  if (!ipaddr.isValid(address)) return { address, range: 'unparseable', blocked: true, ip: undefined };
  const parsed = ipaddr.parse(address);
  const ip = unmap(parsed);
  const mapped = ip !== parsed ? 'IPv4-mapped ' : '';
  let range: string = ip.range();
  if (range === 'unicast' && ip.kind() === 'ipv6' && !ip.match(IPV6_GLOBAL_UNICAST)) range = 'reserved';
  const normalized = ip.kind() === 'ipv6' ? (ip as ipaddr.IPv6).toRFC5952String() : ip.toString();
  if (METADATA_ADDRESSES.has(normalized)) {
    return { address, range: `${mapped}${range}, cloud metadata`, blocked: true, ip };
  }
  return { address, range: `${mapped}${range}`, blocked: range !== 'unicast', ip };
}

/** Whether an allowlisted CIDR covers the address (a mismatched IP version never matches). */
function inAllowedRange(ip: IP | undefined, allowlist: AllowlistEntry[]): boolean {
  if (ip === undefined) return false;
  return allowlist.some(
    (entry) =>
      entry.kind === 'cidr' &&
      entry.range[0].kind() === ip.kind() &&
      ip.match(entry.range[0], entry.range[1]),
  );
}

/** The URL's host as a resolver or allowlist wants it: no IPv6 brackets, no trailing dot. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** Resolves the host, or says why it couldn't. IP literals are their own answer. */
async function resolveHost(
  host: string,
  lookup: HostLookup,
): Promise<{ addresses: string[] } | { reason: string; transient: boolean }> {
  if (isIP(host) !== 0) return { addresses: [host] };
  try {
    const answers = await lookup(host);
    const addresses = [...new Set(answers.map((answer) => answer.address))];
    if (addresses.length === 0)
      return { reason: `callback_url host "${host}" has no addresses`, transient: false };
    return { addresses };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = error instanceof Error ? error.message : String(error);
    return {
      reason: `callback_url host "${host}" could not be resolved (${code ?? message})`,
      transient: code !== undefined && TRANSIENT_DNS_CODES.has(code),
    };
  }
}

/** The system resolver, every address in the order it gave them. */
const systemLookup: HostLookup = (host) => dnsLookup(host, { all: true, order: 'verbatim' });

/**
 * Decides whether a callback URL may be called, to keep a caller-supplied URL from reaching the
 * fleet's own network (SSRF): http(s) only, no userinfo, and EVERY address the host resolves to
 * public unicast — one internal address is enough for a resolver to hand it to us on the next
 * try. Exceptions: a host name on the allowlist, or each blocked address inside an allowlisted
 * CIDR. Numeric IPv4 forms (`2130706433`, `0x7f.1`) are normalized by WHATWG URL before this
 * sees them. The addresses returned are the ones to connect to (see `deliverCallback`).
 */
export async function checkCallbackUrl(
  raw: string,
  o: { allowlist: AllowlistEntry[]; lookup?: HostLookup; allowlistSetting?: string },
): Promise<UrlCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, code: 'INVALID_URL', reason: `callback_url "${raw}" is not a valid URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      ok: false,
      code: 'SCHEME',
      reason: `callback_url scheme "${url.protocol.replace(/:$/, '')}" is refused; use http or https`,
    };
  }
  if (url.username !== '' || url.password !== '') {
    return {
      ok: false,
      code: 'CREDENTIALS',
      reason:
        'callback_url carries credentials (user:pass@), which are refused; callbacks are signed instead',
    };
  }
  const host = bareHost(url);
  const resolved = await resolveHost(host, o.lookup ?? systemLookup);
  if ('reason' in resolved) {
    return resolved.transient
      ? { ok: false, code: 'RESOLVE_FAILED', reason: resolved.reason, transient: true }
      : { ok: false, code: 'RESOLVE_FAILED', reason: resolved.reason };
  }
  if (o.allowlist.some((entry) => entry.kind === 'host' && entry.host === host)) {
    return { ok: true, url, addresses: resolved.addresses };
  }
  const refused = resolved.addresses
    .map(classifyAddress)
    .filter((verdict) => verdict.blocked && !inAllowedRange(verdict.ip, o.allowlist));
  if (refused.length > 0) {
    const list = refused.map((verdict) => `${verdict.address} (${verdict.range})`).join(', ');
    const verb = isIP(host) !== 0 ? 'is' : 'resolves to';
    const which = refused.length === 1 ? 'which is' : 'which are';
    return {
      ok: false,
      code: 'BLOCKED_ADDRESS',
      reason: `callback_url host "${host}" ${verb} ${list}, ${which} refused; allow it with ${o.allowlistSetting ?? DEFAULT_ALLOWLIST_SETTING}`,
    };
  }
  return { ok: true, url, addresses: resolved.addresses };
}
