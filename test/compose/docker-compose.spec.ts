// Checks docker-compose.yml as far as a machine without a Docker engine can: its shape, the rules
// every service follows, and that the files it mounts exist and parse. Nothing here starts a container.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, globSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const root = path.resolve(__dirname, '../..');

type Env = Record<string, string | number | boolean | null> | string[];
type Port = string | number | { target?: number; published?: string | number; host_ip?: string };
type Volume = string | { type?: string; source?: string; target?: string };

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Env;
  ports?: Port[];
  volumes?: Volume[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  profiles?: string[];
}

interface ComposeFile {
  services?: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

function readYaml<T>(relativePath: string): T {
  return parse(readFileSync(path.join(root, relativePath), 'utf8')) as T;
}

const compose = readYaml<ComposeFile>('docker-compose.yml');
const services = compose.services ?? {};
/**
 * Long-running services. Run-to-completion jobs (profile `jobs`: `docker compose run --rm <job>`,
 * a CronJob in Kubernetes) have no health endpoint and must not be restarted when they exit.
 */
const entries = Object.entries(services).filter(([, s]) => !(s.profiles ?? []).includes('jobs'));
const jobs = Object.entries(services).filter(([, s]) => (s.profiles ?? []).includes('jobs'));

/** The infrastructure services and their host ports: tools/infra's, plus Grafana (compose only). */
const INFRA_HOST_PORTS: Record<string, number[]> = {
  kafka: [9092],
  postgres: [5432],
  redis: [6379],
  minio: [9000, 9001],
  jaeger: [16686, 4317, 4318],
  prometheus: [9090],
  grafana: [3000],
};

function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((line) => {
        const eq = line.indexOf('=');
        return eq === -1 ? [line, ''] : [line.slice(0, eq), line.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value ?? '')]));
}

function commandWords(service: Service): string[] {
  const { command } = service;
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);
}

/** A published port as { hostIp, hostPort }; hostIp is '' when the port binds every interface. */
function publishedPort(port: Port): { hostIp: string; hostPort: string } {
  if (typeof port === 'object') {
    return { hostIp: port.host_ip ?? '', hostPort: String(port.published ?? '') };
  }
  // Short syntax: [HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTOCOL], or a bare container port.
  const parts = String(port).split('/')[0].split(':');
  if (parts.length === 3) return { hostIp: parts[0], hostPort: parts[1] };
  if (parts.length === 2) return { hostIp: '', hostPort: parts[0] };
  return { hostIp: '', hostPort: '' };
}

/** A volume entry as { source, target, bind }: bind is true for a host path. */
function mountOf(volume: Volume): { source: string; target: string; bind: boolean } {
  if (typeof volume === 'object') {
    const source = volume.source ?? '';
    return { source, target: volume.target ?? '', bind: volume.type === 'bind' };
  }
  const [source, target = ''] = volume.split(':');
  return { source, target, bind: /^(\.{1,2}\/|\/|~)/.test(source) };
}

function bindMounts(): { service: string; source: string; target: string }[] {
  return entries.flatMap(([name, service]) =>
    (service.volumes ?? []).map(mountOf).flatMap((m) => (m.bind ? [{ service: name, ...m }] : [])),
  );
}

/** The tag of an image reference, or undefined when it has none (a digest counts as pinned). */
function imageTag(image: string): string | undefined {
  if (image.includes('@sha256:')) return image.split('@')[1];
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  return colon === -1 ? undefined : image.slice(colon + 1);
}

test('the compose file defines every infrastructure service (tools/infra servers and Grafana)', () => {
  const missing = Object.keys(INFRA_HOST_PORTS).filter((name) => !(name in services));
  assert.deepEqual(missing, []);
});

test('every service has an image or a build to run', () => {
  const offenders = entries.filter(([, s]) => !s.image && !s.build).map(([name]) => name);
  assert.deepEqual(offenders, []);
});

test('every service declares a healthcheck with a command to run', () => {
  const offenders = entries
    .filter(([, s]) => {
      const hc = s.healthcheck;
      if (!hc || hc.disable) return true;
      if (typeof hc.test === 'string') return hc.test.trim() === '';
      if (!Array.isArray(hc.test)) return true;
      const [kind, ...rest] = hc.test;
      return !['CMD', 'CMD-SHELL'].includes(kind) || rest.join('').trim() === '';
    })
    .map(([name]) => name);
  assert.deepEqual(offenders, []);
});

test('every service declares an explicit, non-empty environment', () => {
  const offenders = entries.filter(([, s]) => Object.keys(envOf(s)).length === 0).map(([name]) => name);
  assert.deepEqual(offenders, []);
});

test('every service restarts unless stopped', () => {
  const offenders = entries.filter(([, s]) => s.restart !== 'unless-stopped').map(([name]) => name);
  assert.deepEqual(offenders, []);
});

test('run-to-completion jobs are never restarted and wait for what they use', () => {
  const offenders = jobs.flatMap(([name, s]) => [
    ...(s.restart === 'no' ? [] : [`${name}: restart ${s.restart}`]),
    ...(s.depends_on && Object.keys(s.depends_on).length > 0 ? [] : [`${name}: depends_on`]),
  ]);
  assert.deepEqual(offenders, []);
});

test('every published port binds 127.0.0.1 only', () => {
  const offenders = entries.flatMap(([name, s]) =>
    (s.ports ?? [])
      .filter((p) => publishedPort(p).hostIp !== '127.0.0.1')
      .map((p) => `${name}: ${JSON.stringify(p)}`),
  );
  assert.deepEqual(offenders, []);
});

test('each infrastructure service is published on its agreed host ports, the same as tools/infra', () => {
  const missing = Object.entries(INFRA_HOST_PORTS).flatMap(([name, expected]) => {
    const published = (services[name]?.ports ?? []).map((p) => publishedPort(p).hostPort);
    return expected.filter((port) => !published.includes(String(port))).map((port) => `${name}: ${port}`);
  });
  assert.deepEqual(missing, []);
});

test('every depends_on entry names an existing service and waits for it to be healthy', () => {
  const offenders = entries.flatMap(([name, s]) => {
    const deps = s.depends_on;
    if (deps === undefined) return [];
    // The list form has no condition: the dependent would start before its dependency is ready.
    if (Array.isArray(deps)) return deps.map((dep) => `${name} -> ${dep}: no condition`);
    return Object.entries(deps).flatMap(([dep, spec]) => [
      ...(dep in services ? [] : [`${name} -> ${dep}: no such service`]),
      ...(spec?.condition === 'service_healthy' ? [] : [`${name} -> ${dep}: ${spec?.condition}`]),
    ]);
  });
  assert.deepEqual(offenders, []);
});

test('every image is pinned to an explicit tag other than latest', () => {
  const offenders = entries
    .filter(([, s]) => s.image !== undefined)
    .filter(([, s]) => {
      const tag = imageTag(s.image ?? '');
      return tag === undefined || tag === '' || tag === 'latest';
    })
    .map(([name, s]) => `${name}: ${s.image}`);
  assert.deepEqual(offenders, []);
});

test('kafka refuses to auto-create topics, so a misspelt topic fails instead of appearing', () => {
  assert.equal(envOf(services.kafka ?? {}).KAFKA_AUTO_CREATE_TOPICS_ENABLE, 'false');
});

test('kafka advertises 127.0.0.1:9092 to the host and a service-name listener to containers', () => {
  const env = envOf(services.kafka ?? {});
  const advertised = (env.KAFKA_ADVERTISED_LISTENERS ?? '').split(',').filter(Boolean);
  const listenerNames = (env.KAFKA_LISTENERS ?? '').split(',').map((l) => l.split('://')[0]);
  const protocolNames = (env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP ?? '')
    .split(',')
    .map((m) => m.split(':')[0]);

  assert.ok(
    advertised.some((l) => l.endsWith('://127.0.0.1:9092')),
    `host listener: ${advertised.join(',')}`,
  );
  assert.ok(
    advertised.some((l) => l.includes('://kafka:')),
    `container listener: ${advertised.join(',')}`,
  );
  for (const name of advertised.map((l) => l.split('://')[0])) {
    assert.ok(listenerNames.includes(name), `${name} is advertised but not listened on`);
    assert.ok(protocolNames.includes(name), `${name} has no security protocol`);
  }
  assert.equal(env.KAFKA_CONTROLLER_QUORUM_VOTERS, '1@kafka:9093');
});

test('redis runs with append-only persistence', () => {
  const words = commandWords(services.redis ?? {});
  const flag = words.indexOf('--appendonly');
  assert.ok(flag !== -1 && words[flag + 1] === 'yes', `redis command: ${words.join(' ')}`);
});

test('every bind-mounted host path exists in the repo', () => {
  const mounts = bindMounts();
  assert.ok(mounts.length > 0, 'expected bind mounts (Prometheus and Grafana config)');
  const missing = mounts
    .filter((m) => !existsSync(path.resolve(root, m.source)))
    .map((m) => `${m.service}: ${m.source}`);
  assert.deepEqual(missing, []);
});

test('every named volume a service mounts is declared at the top level', () => {
  const declared = Object.keys(compose.volumes ?? {});
  const undeclared = entries.flatMap(([name, s]) =>
    (s.volumes ?? [])
      .map(mountOf)
      .filter((m) => !m.bind && m.source !== '' && !declared.includes(m.source))
      .map((m) => `${name}: ${m.source}`),
  );
  assert.deepEqual(undeclared, []);
});

/** Local stand-ins for third-party APIs: not fleet apps, so no /health/ready of ours. */
const THIRD_PARTY_FAKES = new Set(['fake-channels', 'fake-llm']);

test('app services check /health/ready and wait for their infrastructure to be healthy', () => {
  const apps = entries.filter(([name]) => !(name in INFRA_HOST_PORTS) && !THIRD_PARTY_FAKES.has(name));
  const offenders = apps.flatMap(([name, s]) => [
    ...([s.healthcheck?.test ?? ''].flat().join(' ').includes('/health/ready')
      ? []
      : [`${name}: healthcheck`]),
    ...(s.depends_on && Object.keys(s.depends_on).length > 0 ? [] : [`${name}: depends_on`]),
  ]);
  assert.deepEqual(offenders, []);
});

test('every YAML file under deploy/ parses to a mapping', () => {
  const files = globSync('deploy/**/*.{yml,yaml}', { cwd: root });
  assert.ok(files.length >= 3, `found ${files.join(', ')}`);
  for (const file of files) {
    const doc = readYaml<unknown>(file);
    assert.ok(doc !== null && typeof doc === 'object' && !Array.isArray(doc), `${file} is not a mapping`);
  }
});

test('the mounted Prometheus config scrapes Prometheus itself', () => {
  const mount = bindMounts().find((m) => m.target === '/etc/prometheus/prometheus.yml');
  assert.ok(mount, 'prometheus.yml is not mounted');
  const config = readYaml<{ scrape_configs?: { job_name?: string }[] }>(mount.source);
  assert.ok(config.scrape_configs?.some((job) => job.job_name === 'prometheus'));
});

test('Prometheus scrapes every app on its health port and loads the mounted alert rules', () => {
  const mount = bindMounts().find((m) => m.target === '/etc/prometheus/prometheus.yml')!;
  const config = readYaml<{
    rule_files?: string[];
    scrape_configs?: {
      job_name: string;
      static_configs?: { targets: string[] }[];
      dns_sd_configs?: { names: string[]; port: number }[];
    }[];
  }>(mount.source);
  const scraped = new Set(
    (config.scrape_configs ?? []).flatMap((job) => [
      ...(job.static_configs ?? []).flatMap((c) => c.targets),
      ...(job.dns_sd_configs ?? []).flatMap((c) => c.names.map((name) => `${name}:${c.port}`)),
    ]),
  );
  for (const [name, service] of entries) {
    const port = (service.environment as Record<string, string> | undefined)?.HEALTH_PORT;
    if (port) assert.ok(scraped.has(`${name}:${port}`), `${name}:${port} is not scraped`);
  }
  const rules = bindMounts().find((m) => m.service === 'prometheus' && m.target === '/etc/prometheus/rules');
  assert.ok(rules, 'the rule folder is not mounted');
  assert.equal(path.normalize(rules.source), path.normalize('./deploy/prometheus/rules'));
  for (const file of config.rule_files ?? ['(none)']) {
    assert.ok(file.startsWith('/etc/prometheus/rules/'), `${file} is outside the mounted folder`);
    assert.ok(
      existsSync(path.join(root, 'deploy/prometheus/rules', path.basename(file))),
      `${file} is missing`,
    );
  }
});

test('the Grafana datasource points at the Prometheus service and its port', () => {
  const file = readYaml<{ datasources?: { type?: string; url?: string }[] }>(
    'deploy/grafana/provisioning/datasources/prometheus.yml',
  );
  const prometheus = file.datasources?.find((d) => d.type === 'prometheus');
  assert.ok(prometheus, 'no prometheus datasource');
  const url = new URL(prometheus.url ?? '');
  assert.ok(url.hostname in services, `${url.hostname} is not a compose service`);
  const containerPorts = (services[url.hostname].ports ?? []).map((p) =>
    typeof p === 'object' ? String(p.target) : String(p).split('/')[0].split(':').at(-1),
  );
  assert.ok(containerPorts.includes(url.port), `port ${url.port} not in ${containerPorts.join(', ')}`);
});

test('the Grafana dashboard provider reads the folder that compose mounts from deploy/grafana/dashboards', () => {
  const file = readYaml<{ providers?: { type?: string; options?: { path?: string } }[] }>(
    'deploy/grafana/provisioning/dashboards/fleet.yml',
  );
  const providerPaths = (file.providers ?? []).filter((p) => p.type === 'file').map((p) => p.options?.path);
  const mount = bindMounts().find(
    (m) =>
      m.service === 'grafana' && path.normalize(m.source) === path.normalize('./deploy/grafana/dashboards'),
  );
  assert.ok(mount, 'deploy/grafana/dashboards is not mounted into grafana');
  assert.ok(providerPaths.includes(mount.target), `${providerPaths.join(', ')} vs ${mount.target}`);
});
