import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCallbackUrl, classifyAddress, parseAllowlist, type HostLookup, type UrlCheck } from './ssrf';

/** A resolver that knows only these names; it must never be asked about IP literals. */
function fakeLookup(table: Record<string, string[]>): HostLookup & { asked: string[] } {
  const asked: string[] = [];
  const lookup = async (host: string) => {
    asked.push(host);
    const addresses = table[host];
    if (addresses === undefined) {
      const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${host}`);
      error.code = 'ENOTFOUND';
      throw error;
    }
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { asked });
}

const lookup = fakeLookup({
  'public.test': ['93.184.216.34'],
  'mixed.test': ['93.184.216.34', '10.1.2.3'],
  'private.test': ['10.0.0.5'],
  'localhost.test': ['127.0.0.1', '::1'],
  'hooks.internal': ['10.9.9.9'],
  'dual.test': ['2606:4700::1111', '93.184.216.34'],
});

function refusal(check: UrlCheck): { code: string; reason: string } {
  assert.equal(check.ok, false, `expected a refusal, got ${JSON.stringify(check)}`);
  if (check.ok) throw new Error('unreachable');
  return check;
}

describe('checkCallbackUrl: blocked addresses', () => {
  // One test per kind of range; each row names its URL when it fails.
  const blocked: Record<string, [url: string, address: string, range: string][]> = {
    'loopback, IPv4 and IPv6, plain and IPv4-mapped': [
      ['http://127.0.0.1/cb', '127.0.0.1', 'loopback'],
      ['http://127.255.255.254/cb', '127.255.255.254', 'loopback'],
      ['http://[::1]:8080/cb', '::1', 'loopback'],
      ['http://[::ffff:127.0.0.1]/cb', '::ffff:7f00:1', 'IPv4-mapped loopback'],
      ['http://[::ffff:10.0.0.1]/cb', '::ffff:a00:1', 'IPv4-mapped private'],
    ],
    'private IPv4 (10/8, 172.16/12, 192.168/16) and carrier-grade NAT (100.64/10)': [
      ['http://10.0.0.1/', '10.0.0.1', 'private'],
      ['http://10.255.255.255/', '10.255.255.255', 'private'],
      ['http://172.16.0.1/', '172.16.0.1', 'private'],
      ['http://172.31.255.254/', '172.31.255.254', 'private'],
      ['http://192.168.1.1/', '192.168.1.1', 'private'],
      ['http://100.64.0.1/', '100.64.0.1', 'carrierGradeNat'],
      ['http://100.127.255.254/', '100.127.255.254', 'carrierGradeNat'],
    ],
    'link-local and cloud metadata': [
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'linkLocal, cloud metadata'],
      ['http://169.254.1.1/', '169.254.1.1', 'linkLocal'],
      ['http://100.100.100.200/', '100.100.100.200', 'carrierGradeNat, cloud metadata'],
      ['http://[fd00:ec2::254]/', 'fd00:ec2::254', 'uniqueLocal, cloud metadata'],
      ['http://[fe80::1]/', 'fe80::1', 'linkLocal'],
    ],
    'unique-local IPv6 (fc00::/7)': [
      ['http://[fc00::1]/', 'fc00::1', 'uniqueLocal'],
      ['http://[fdff:ffff::1]/', 'fdff:ffff::1', 'uniqueLocal'],
    ],
    'unspecified, broadcast, multicast, reserved': [
      ['http://0.0.0.0/', '0.0.0.0', 'unspecified'],
      ['http://[::]/', '::', 'unspecified'],
      ['http://255.255.255.255/', '255.255.255.255', 'broadcast'],
      ['http://224.0.0.1/', '224.0.0.1', 'multicast'],
      ['http://[ff02::1]/', 'ff02::1', 'multicast'],
      ['http://192.0.2.10/', '192.0.2.10', 'reserved'],
      ['http://[::7f00:1]/', '::7f00:1', 'reserved'],
    ],
    'IPv6 translation and tunnel prefixes (NAT64, 6to4, Teredo)': [
      ['http://[64:ff9b::a00:1]/', '64:ff9b::a00:1', 'rfc6052'],
      ['http://[2002:a00:1::1]/', '2002:a00:1::1', '6to4'],
      ['http://[2001::1]/', '2001::1', 'teredo'],
    ],
    // WHATWG URL turns each of these into 127.0.0.1 before the check sees it.
    'decimal, octal, hex and short IPv4 forms': [
      ['http://2130706433/', '127.0.0.1', 'loopback'],
      ['http://0x7f.1/', '127.0.0.1', 'loopback'],
      ['http://0177.0.0.1/', '127.0.0.1', 'loopback'],
      ['http://127.1/', '127.0.0.1', 'loopback'],
      ['http://0x7f000001/', '127.0.0.1', 'loopback'],
      ['http://%31%32%37.0.0.1/', '127.0.0.1', 'loopback'],
    ],
  };
  for (const [group, rows] of Object.entries(blocked)) {
    it(`refuses ${group}`, async () => {
      for (const [url, address, range] of rows) {
        const result = refusal(await checkCallbackUrl(url, { allowlist: [], lookup }));
        assert.equal(result.code, 'BLOCKED_ADDRESS', url);
        assert.ok(result.reason.includes(`${address} (${range})`), `${url}: ${result.reason}`);
        assert.match(result.reason, /EXPORT_CALLBACK_ALLOWLIST/, url);
      }
    });
  }

  it('never asks the resolver about IP literals', async () => {
    const own = fakeLookup({});
    await checkCallbackUrl('http://[::1]/', { allowlist: [], lookup: own });
    await checkCallbackUrl('http://2130706433/', { allowlist: [], lookup: own });
    assert.deepEqual(own.asked, []);
  });

  it('names the host, the address and the range, and the setting to change', async () => {
    const result = refusal(await checkCallbackUrl('https://private.test/hook', { allowlist: [], lookup }));
    assert.equal(
      result.reason,
      'callback_url host "private.test" resolves to 10.0.0.5 (private), which is refused; allow it with EXPORT_CALLBACK_ALLOWLIST',
    );
  });

  it('refuses a name with one public and one private address, naming the private one', async () => {
    const result = refusal(await checkCallbackUrl('https://mixed.test/', { allowlist: [], lookup }));
    assert.equal(result.code, 'BLOCKED_ADDRESS');
    assert.match(result.reason, /10\.1\.2\.3 \(private\)/);
    assert.doesNotMatch(result.reason, /93\.184\.216\.34/);
  });

  it('lists every blocked address of a name', async () => {
    const result = refusal(await checkCallbackUrl('http://localhost.test/', { allowlist: [], lookup }));
    assert.match(result.reason, /127\.0\.0\.1 \(loopback\), ::1 \(loopback\), which are refused/);
  });
});

describe('checkCallbackUrl: allowed', () => {
  it('allows a public address without contacting it (93.184.216.34)', async () => {
    const check = await checkCallbackUrl('https://93.184.216.34/cb', { allowlist: [], lookup });
    assert.equal(check.ok, true);
    if (check.ok) assert.deepEqual(check.addresses, ['93.184.216.34']);
  });

  it('allows a public name and returns every address it resolved to, in order', async () => {
    const check = await checkCallbackUrl('https://dual.test:8443/x?y=1', { allowlist: [], lookup });
    assert.equal(check.ok, true);
    if (check.ok) {
      assert.deepEqual(check.addresses, ['2606:4700::1111', '93.184.216.34']);
      assert.equal(check.url.port, '8443');
    }
  });

  it('allows an IPv4-mapped public address', async () => {
    const check = await checkCallbackUrl('http://[::ffff:93.184.216.34]/', { allowlist: [], lookup });
    assert.equal(check.ok, true);
  });

  it('allows blocked addresses inside an allowlisted CIDR', async () => {
    const allowlist = parseAllowlist('127.0.0.1/32,10.0.0.0/8');
    assert.equal((await checkCallbackUrl('http://127.0.0.1:9999/', { allowlist, lookup })).ok, true);
    assert.equal((await checkCallbackUrl('http://private.test/', { allowlist, lookup })).ok, true);
    assert.equal((await checkCallbackUrl('http://2130706433/', { allowlist, lookup })).ok, true);
    assert.equal((await checkCallbackUrl('http://[::ffff:127.0.0.1]/', { allowlist, lookup })).ok, true);
  });

  it('still refuses blocked addresses outside the allowlisted CIDR', async () => {
    const allowlist = parseAllowlist('127.0.0.1/32');
    const result = refusal(await checkCallbackUrl('http://127.0.0.2/', { allowlist, lookup }));
    assert.equal(result.code, 'BLOCKED_ADDRESS');
    // ::1 is loopback too, but 127.0.0.1/32 covers only IPv4.
    const both = refusal(await checkCallbackUrl('http://localhost.test/', { allowlist, lookup }));
    assert.match(both.reason, /::1 \(loopback\), which is refused/);
  });

  it('allows an allowlisted host name whatever it resolves to, case and trailing dot ignored', async () => {
    const allowlist = parseAllowlist('Hooks.Internal');
    const check = await checkCallbackUrl('http://HOOKS.internal./cb', { allowlist, lookup });
    assert.equal(check.ok, true);
    if (check.ok) assert.deepEqual(check.addresses, ['10.9.9.9']);
    // The name is exact: a subdomain is not allowlisted.
    const sub = refusal(
      await checkCallbackUrl('http://a.hooks.internal/', {
        allowlist,
        lookup: fakeLookup({ 'a.hooks.internal': ['10.9.9.9'] }),
      }),
    );
    assert.equal(sub.code, 'BLOCKED_ADDRESS');
  });

  it('names another setting when asked to', async () => {
    const result = refusal(
      await checkCallbackUrl('http://10.0.0.1/', { allowlist: [], lookup, allowlistSetting: 'HOOKS_ALLOW' }),
    );
    assert.match(result.reason, /allow it with HOOKS_ALLOW$/);
  });
});

describe('checkCallbackUrl: other refusals', () => {
  it('refuses schemes other than http and https', async () => {
    for (const url of [
      'ftp://93.184.216.34/x',
      'file:///etc/passwd',
      'gopher://public.test/',
      'javascript:alert(1)',
    ]) {
      assert.equal(refusal(await checkCallbackUrl(url, { allowlist: [], lookup })).code, 'SCHEME', url);
    }
  });

  it('refuses credentials in the URL', async () => {
    for (const url of [
      'http://user:pass@public.test/',
      'https://user@public.test/',
      'http://:pw@public.test/',
    ]) {
      assert.equal(refusal(await checkCallbackUrl(url, { allowlist: [], lookup })).code, 'CREDENTIALS', url);
    }
  });

  it('refuses what is not a URL', async () => {
    for (const url of ['not a url', '/relative/path', 'http://', 'http://[::1']) {
      assert.equal(refusal(await checkCallbackUrl(url, { allowlist: [], lookup })).code, 'INVALID_URL', url);
    }
  });

  it('refuses a host that does not resolve, naming it', async () => {
    const result = refusal(await checkCallbackUrl('https://nowhere.test/', { allowlist: [], lookup }));
    assert.equal(result.code, 'RESOLVE_FAILED');
    assert.match(result.reason, /"nowhere\.test".*ENOTFOUND/);
    assert.equal('transient' in result, false);
  });

  it('marks a temporary DNS failure as transient', async () => {
    const flaky: HostLookup = () =>
      Promise.reject(Object.assign(new Error('getaddrinfo EAI_AGAIN x'), { code: 'EAI_AGAIN' }));
    const result = await checkCallbackUrl('https://x.test/', { allowlist: [], lookup: flaky });
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.code, 'RESOLVE_FAILED');
      assert.equal(result.transient, true);
    }
  });

  it('refuses a name with no addresses', async () => {
    const result = refusal(
      await checkCallbackUrl('https://empty.test/', {
        allowlist: [],
        lookup: fakeLookup({ 'empty.test': [] }),
      }),
    );
    assert.equal(result.code, 'RESOLVE_FAILED');
  });

  it('refuses a resolver answer that is not an IP address', async () => {
    const result = refusal(
      await checkCallbackUrl('https://odd.test/', {
        allowlist: [],
        lookup: fakeLookup({ 'odd.test': ['nonsense'] }),
      }),
    );
    assert.match(result.reason, /nonsense \(unparseable\)/);
  });
});

describe('classifyAddress', () => {
  it('passes public unicast only', () => {
    assert.equal(classifyAddress('93.184.216.34').blocked, false);
    assert.equal(classifyAddress('2606:4700::1111').blocked, false);
    assert.equal(classifyAddress('8.8.8.8').range, 'unicast');
    assert.equal(classifyAddress('198.18.0.1').blocked, true);
    assert.equal(classifyAddress('4000::1').blocked, true);
  });
});

describe('parseAllowlist', () => {
  it('parses host names, IPs and CIDRs, trimming and lowercasing', () => {
    const entries = parseAllowlist(' 127.0.0.1/32, localhost ,Hooks.Internal,10.0.0.7,::1,fd00::/8,');
    assert.deepEqual(
      entries.map((entry) => (entry.kind === 'host' ? `host:${entry.host}` : `cidr:${entry.range[1]}`)),
      ['cidr:32', 'host:localhost', 'host:hooks.internal', 'cidr:32', 'cidr:128', 'cidr:8'],
    );
  });

  it('is empty for an unset or blank setting', () => {
    assert.deepEqual(parseAllowlist(undefined), []);
    assert.deepEqual(parseAllowlist(''), []);
    assert.deepEqual(parseAllowlist(' , '), []);
  });

  it('throws naming the bad entry', () => {
    for (const bad of [
      '10.0.0.0/33',
      '300.1.1.1/8',
      'http://hooks.internal',
      '*.internal',
      'a b',
      'x_/',
      '2130706433',
      '0x7f.1',
    ]) {
      assert.throws(
        () => parseAllowlist(`127.0.0.1/32,${bad},localhost`),
        (error: unknown) => error instanceof Error && error.message.includes(`"${bad}"`),
        bad,
      );
    }
  });
});
