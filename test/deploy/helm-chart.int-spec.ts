// The Helm chart (helm/fleet) and the plain manifests rendered from it (k8s/): rendered with the real
// helm binary (tools/infra builds it once), checked against the apps themselves — each app's env must
// pass that app's own config schema — and against the conventions of k8s/README.md. Nothing here
// talks to a cluster.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import { parseConfig } from '@fleet/config';
import {
  chatMessageOutgoing,
  exportJobRequested,
  generationJobRequested,
  groupInNamespace,
  inNamespace,
  poolJobRequested,
  uploadMergeRequested,
  type TopicContract,
} from '@fleet/contracts';
import { readLocalEnv } from '@fleet/service-kit/testing';
import { parse as parseYaml } from 'yaml';
import { type z } from 'zod';
import { configSchema as api } from '../../apps/api/src/config';
import { configSchema as exporter } from '../../apps/exporter/src/config';
import { configSchema as fileMerge } from '../../apps/file-merge/src/config';
import { configSchema as generation } from '../../apps/generation/src/config';
import { configSchema as poolFiller } from '../../apps/pool-filler/src/config';
import { configSchema as messageRouter } from '../../apps/message-router/src/config';
import { configSchema as outboxPoller } from '../../apps/outbox-poller/src/config';
import { configSchema as redisBackfill } from '../../apps/redis-backfill/src/config';
import { configSchema as uploadGc } from '../../apps/upload-gc/src/config';
import { CHART, EXAMPLE_VALUES, helmBinary, plainManifests, renderChart } from '../../tools/render-k8s';

const ROOT = resolve(__dirname, '../..');
const HPA_VALUES = join(CHART, 'ci/hpa-values.yaml');

const SCHEMAS: Record<string, z.ZodObject> = {
  api,
  'file-merge': fileMerge,
  generation,
  exporter,
  'pool-filler': poolFiller,
  'message-router': messageRouter,
  'outbox-poller': outboxPoller,
  'redis-backfill': redisBackfill,
  'upload-gc': uploadGc,
};

/** The workers KEDA can scale: the config variable of their consumer group and the topic it reads. */
const KEDA_WORKERS: Record<string, { groupVar: string; topic: TopicContract<unknown> }> = {
  'message-router': { groupVar: 'ROUTER_CONSUMER_GROUP', topic: chatMessageOutgoing },
  'file-merge': { groupVar: 'FILE_MERGE_GROUP', topic: uploadMergeRequested },
  generation: { groupVar: 'GENERATION_GROUP', topic: generationJobRequested },
  'pool-filler': { groupVar: 'POOL_FILLER_GROUP', topic: poolJobRequested },
  exporter: { groupVar: 'EXPORTER_GROUP', topic: exportJobRequested },
};

/** What an operator's credentials Secret would hold, for the config check. */
const SECRET_VALUES: Record<string, string> = {
  DATABASE_URL: 'postgres://fleet:secret@postgres.db.svc:5432/fleet',
  AUTH_JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nMFkw…\n-----END PUBLIC KEY-----',
  WHATSAPP_APP_SECRET: 'whatsapp-app-secret-0123456789',
  WHATSAPP_VERIFY_TOKEN: 'whatsapp-verify-token',
  INSTAGRAM_APP_SECRET: 'instagram-app-secret-0123456789',
  INSTAGRAM_VERIFY_TOKEN: 'instagram-verify-token',
  WHATSAPP_ACCESS_TOKEN: 'whatsapp-access-token',
  INSTAGRAM_ACCESS_TOKEN: 'instagram-access-token',
  MINIO_ACCESS_KEY: 'minio-access-key',
  MINIO_SECRET_KEY: 'minio-secret-key',
  WORKER_CALLBACK_SECRET: 'callback-secret-0123456789',
  EXPORT_SIGNING_KEY_PEM: '-----BEGIN PRIVATE KEY-----\nMC4C…\n-----END PRIVATE KEY-----',
};

/** Variables node itself reads, not the app's config. */
const NODE_READS = new Set(['NODE_OPTIONS']);

// Rendered objects are walked freely here: their shape is what the assertions check.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Doc = Record<string, any>;
type Container = { name: string; env?: Array<{ name: string; valueFrom?: any }>; [key: string]: any };

let helm: string;
let docs: Doc[];

const appOf = (doc: Doc) => doc.metadata.labels['app.kubernetes.io/name'] as string;
const find = (all: Doc[], kind: string, app: string) =>
  all.find((doc) => doc.kind === kind && appOf(doc) === app);
const podSpecOf = (workload: Doc) =>
  workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec;
const workloads = (all: Doc[]) => all.filter((doc) => doc.kind === 'Deployment' || doc.kind === 'CronJob');
/** The app a workload runs: its container's name (an app's scheduled task has a name label of its own). */
const podTemplateLabels = (workload: Doc): Record<string, string> =>
  (workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec.template : workload.spec.template).metadata
    .labels;
const appRunBy = (workload: Doc) => (podSpecOf(workload).containers as Container[])[0]!.name;

/** The env `workload`'s container starts with: its app's ConfigMap, then its keys of the credentials Secret. */
function envOf(all: Doc[], workload: Doc): Record<string, string> {
  const app = appRunBy(workload);
  const [container] = podSpecOf(workload).containers as Container[];
  const configMap = find(all, 'ConfigMap', app);
  assert.ok(configMap, `${app}: ConfigMap`);
  assert.deepEqual(container!.envFrom, [{ configMapRef: { name: configMap.metadata.name } }]);
  const env: Record<string, string> = { ...configMap.data };
  for (const entry of container!.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef;
    assert.equal(ref?.name, 'fleet-credentials', `${app}: ${entry.name} from the credentials Secret`);
    assert.ok(ref.key in SECRET_VALUES, `${app}: unknown secret key ${ref.key}`);
    env[entry.name] = SECRET_VALUES[ref.key]!;
  }
  return env;
}

/** The Secret of every secretKeyRef in `value`, wherever it stands (pods, jobs, init containers). */
function secretRefNames(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(secretRefNames);
  if (value === null || typeof value !== 'object') return [];
  const ref = (value as Doc).secretKeyRef as { name: string } | undefined;
  return [...(ref ? [ref.name] : []), ...Object.values(value).flatMap(secretRefNames)];
}

/** What `helm install` would print after installing (NOTES.txt), without a cluster. */
function notes(args: string[]): string {
  const out = execFileSync(helm, ['install', 'fleet', CHART, '--dry-run=client', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return out.slice(out.indexOf('NOTES:'));
}

/** helm's exit and stderr for a render expected to fail. */
function renderError(args: string[]): string {
  try {
    execFileSync(helm, ['template', 'fleet', CHART, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr);
  }
  assert.fail(`helm template ${args.join(' ')} succeeded`);
}

describe('helm/fleet', () => {
  before(() => {
    helm = helmBinary();
    docs = renderChart(helm);
  });

  test('helm lint --strict passes', () => {
    const out = execFileSync(helm, ['lint', CHART, '--strict', '-f', EXAMPLE_VALUES], { encoding: 'utf8' });
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('every app under apps/ runs: a Deployment, or a CronJob for upload-gc; the hourly pool check', () => {
    const apps = readdirSync(join(ROOT, 'apps')).filter((app) =>
      existsSync(join(ROOT, 'apps', app, 'src/main.ts')),
    );
    assert.deepEqual([...new Set(workloads(docs).map(appRunBy))].sort(), apps.sort());
    for (const app of apps) {
      const main = workloads(docs).filter((w) => appRunBy(w) === app && appOf(w) === app);
      assert.equal(main.length, 1, `${app}: one Deployment or CronJob of its own`);
    }
    assert.deepEqual(Object.keys(SCHEMAS).sort(), apps.sort(), 'a new app needs its schema in this test');
    assert.equal(find(docs, 'CronJob', 'upload-gc')?.spec.schedule, '0 2 * * *');
    assert.equal(find(docs, 'CronJob', 'upload-gc')?.spec.concurrencyPolicy, 'Forbid');
    // Seed 001's hourly check: the pool-filler's image and config, admin.js instead of main.js.
    const check = find(docs, 'CronJob', 'pool-filler-pool-check');
    assert.equal(check?.spec.schedule, '0 * * * *');
    assert.equal(check?.spec.concurrencyPolicy, 'Forbid');
    const [container] = podSpecOf(check!).containers as Container[];
    assert.deepEqual(container!.command, ['node', 'admin.js', 'schedule-check']);
    assert.equal(
      container!.envFrom[0].configMapRef.name,
      find(docs, 'ConfigMap', 'pool-filler')!.metadata.name,
    );
    // Its pods are not the Deployment's: the Service and PodDisruptionBudget do not select them.
    const service = find(docs, 'Service', 'pool-filler')!;
    const podLabels = podTemplateLabels(check!);
    assert.ok(
      Object.entries(service.spec.selector as Record<string, string>).some(([k, v]) => podLabels[k] !== v),
      'the Service does not select the pool check',
    );
  });

  test("each app's env passes its own config schema and names only variables it reads", () => {
    for (const workload of workloads(docs)) {
      const app = appRunBy(workload);
      const env = envOf(docs, workload);
      const schema = SCHEMAS[app]!;
      const unknown = Object.keys(env).filter((name) => !(name in schema.shape) && !NODE_READS.has(name));
      assert.deepEqual(unknown, [], `${app} does not read ${unknown.join(', ')}`);
      assert.doesNotThrow(() => parseConfig(schema, env), `${app}'s config`);
    }
  });

  test('the exporter runs with the same V8 flags under Helm, docker-compose and tools/fleet (what bench:export measures)', () => {
    const local = readLocalEnv('exporter').NODE_OPTIONS;
    assert.ok(local, 'apps/exporter/local.env sets NODE_OPTIONS');
    assert.equal(find(docs, 'ConfigMap', 'exporter')!.data.NODE_OPTIONS, local);
    const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as Doc;
    assert.equal(compose.services.exporter.environment.NODE_OPTIONS, local);
  });

  test('long-running apps: probes on their health port, scrape annotations, 30 s grace, no root', () => {
    for (const deployment of docs.filter((doc) => doc.kind === 'Deployment')) {
      const app = appOf(deployment);
      const pod = deployment.spec.template;
      const [container] = pod.spec.containers as Container[];
      const port = Number(find(docs, 'ConfigMap', app)!.data.HEALTH_PORT);
      assert.equal(find(docs, 'ConfigMap', app)!.data.HEALTH_HOST, '0.0.0.0', app);
      assert.deepEqual(container!.ports[0], { name: 'health', containerPort: port }, app);
      assert.equal(container!.livenessProbe.httpGet.path, '/health/live', app);
      assert.equal(container!.readinessProbe.httpGet.path, '/health/ready', app);
      assert.equal(container!.readinessProbe.httpGet.port, 'health', app);
      assert.equal(pod.metadata.annotations['prometheus.io/scrape'], 'true', app);
      assert.equal(pod.metadata.annotations['prometheus.io/port'], String(port), app);
      assert.equal(pod.spec.terminationGracePeriodSeconds, 30, app);
      assert.equal(pod.spec.securityContext.runAsNonRoot, true, app);
      assert.equal(container!.image, `fleet/${app}:0.1.0`, app);
      const service = find(docs, 'Service', app);
      assert.equal(service?.spec.ports[0].port, port, `${app}: Service on the health port`);
      assert.deepEqual(service?.spec.selector, deployment.spec.selector.matchLabels, app);
    }
    const api = find(docs, 'Service', 'api')!;
    assert.deepEqual(api.spec.ports[1], { name: 'http', port: 8080, targetPort: 'http' });
  });

  test('each worker scales on its own replica count; a disabled app renders nothing', () => {
    const scaled = renderChart(helm, [
      '--set',
      'apps.file-merge.replicaCount=5',
      '--set',
      'apps.message-router.replicaCount=4',
      '--set',
      'apps.generation.enabled=false',
    ]);
    assert.equal(find(scaled, 'Deployment', 'file-merge')?.spec.replicas, 5);
    assert.equal(find(scaled, 'Deployment', 'message-router')?.spec.replicas, 4);
    assert.equal(find(scaled, 'Deployment', 'api')?.spec.replicas, 2);
    assert.equal(scaled.filter((doc) => appOf(doc) === 'generation').length, 0);
    // Node drains take the pods of a scaled-out app down one at a time; one replica has no budget.
    const budgets = (all: Doc[]) =>
      all
        .filter((doc) => doc.kind === 'PodDisruptionBudget')
        .map(appOf)
        .sort();
    assert.deepEqual(budgets(docs), ['api', 'exporter', 'file-merge', 'message-router']);
    assert.equal(find(scaled, 'PodDisruptionBudget', 'file-merge')?.spec.maxUnavailable, 1);
    const single = renderChart(helm, ['--set', 'apps.api.replicaCount=1']);
    assert.deepEqual(budgets(single), ['exporter', 'file-merge', 'message-router']);
  });

  test("topology spread: every Deployment's pods spread over the nodes; an app overrides or turns it off", () => {
    const spreadOf = (all: Doc[], app: string) =>
      find(all, 'Deployment', app)!.spec.template.spec.topologySpreadConstraints as Doc[] | undefined;
    for (const deployment of docs.filter((doc) => doc.kind === 'Deployment')) {
      assert.deepEqual(
        deployment.spec.template.spec.topologySpreadConstraints,
        [
          {
            maxSkew: 1,
            topologyKey: 'kubernetes.io/hostname',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: deployment.spec.selector.matchLabels },
          },
        ],
        appOf(deployment),
      );
    }
    for (const cronJob of docs.filter((doc) => doc.kind === 'CronJob')) {
      assert.equal(podSpecOf(cronJob).topologySpreadConstraints, undefined, 'a one-off run is not spread');
    }
    const zone = {
      maxSkew: 2,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'DoNotSchedule',
    };
    const own = { ...zone, labelSelector: { matchLabels: { tier: 'workers' } } };
    const overridden = renderChart(helm, [
      '--set-json',
      `apps.file-merge.topologySpread=${JSON.stringify([zone, own])}`,
      '--set-json',
      'apps.api.topologySpread=[]',
    ]);
    assert.deepEqual(spreadOf(overridden, 'file-merge'), [
      {
        ...zone,
        labelSelector: {
          matchLabels: find(overridden, 'Deployment', 'file-merge')!.spec.selector.matchLabels,
        },
      },
      own,
    ]);
    assert.equal(spreadOf(overridden, 'api'), undefined, '[] turns it off for one app');
    assert.equal(
      spreadOf(overridden, 'exporter')![0]!.topologyKey,
      'kubernetes.io/hostname',
      'others keep it',
    );
    const off: Doc[] = renderChart(helm, ['--set-json', 'pod.topologySpread=[]']);
    assert.ok(
      off
        .filter((doc) => doc.kind === 'Deployment')
        .every((d: Doc) => !d.spec.template.spec.topologySpreadConstraints),
    );
    assert.match(
      renderError(['-f', EXAMPLE_VALUES, '--set', 'pod.topologySpread[0].whenUnsatisfiable=Maybe']),
      /'\/pod\/topologySpread\/0\/whenUnsatisfiable'/,
    );
  });

  test('ci/hpa-values.yaml: the message-router on a HorizontalPodAutoscaler, 5 to 50 replicas at 70 % CPU', () => {
    // On its own, as chart-testing lints each ci/*-values.yaml.
    const lint = execFileSync(helm, ['lint', CHART, '--strict', '-f', HPA_VALUES], { encoding: 'utf8' });
    assert.match(lint, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    const hpaDocs = renderChart(helm, ['-f', HPA_VALUES]);
    const hpas = hpaDocs.filter((doc) => doc.kind === 'HorizontalPodAutoscaler');
    assert.deepEqual(hpas.map(appOf), ['message-router']);
    const deployment = find(hpaDocs, 'Deployment', 'message-router')!;
    assert.deepEqual(hpas[0]!.spec, {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name },
      minReplicas: 5,
      maxReplicas: 50,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ],
    });
    assert.ok(!('replicas' in deployment.spec), 'the HPA owns the replica count');
    assert.equal(deployment.spec.template.spec.containers[0].resources.requests.cpu, '100m');
    assert.equal(find(hpaDocs, 'Deployment', 'file-merge')!.spec.replicas, 3, 'other apps keep theirs');
    assert.match(
      notes(['-f', HPA_VALUES]),
      /message-router: 5 to 50 replicas \(HorizontalPodAutoscaler, 70 % CPU\)/,
    );
  });

  test('autoscaling: off by default; an app starts from the autoscaling defaults; its budget follows minReplicas', () => {
    assert.equal(docs.filter((doc) => doc.kind === 'HorizontalPodAutoscaler').length, 0, 'off by default');
    const scaled = renderChart(helm, [
      '--set',
      'apps.file-merge.autoscaling.enabled=true',
      '--set',
      'apps.api.autoscaling.enabled=true',
      '--set',
      'apps.api.autoscaling.minReplicas=1',
      '--set',
      'apps.outbox-poller.autoscaling.enabled=true',
      '--set',
      'apps.outbox-poller.autoscaling.targetMemoryUtilizationPercentage=85',
      '--set',
      'apps.outbox-poller.autoscaling.behavior.scaleDown.stabilizationWindowSeconds=600',
    ]);
    const hpa = (app: string) => find(scaled, 'HorizontalPodAutoscaler', app)!.spec as Doc;
    assert.deepEqual([hpa('file-merge').minReplicas, hpa('file-merge').maxReplicas], [2, 10]);
    assert.equal(hpa('file-merge').metrics[0].resource.target.averageUtilization, 80);
    assert.equal(hpa('file-merge').behavior, undefined);
    assert.deepEqual(
      hpa('outbox-poller').metrics.map((m: Doc) => [m.resource.name, m.resource.target.averageUtilization]),
      [
        ['cpu', 80],
        ['memory', 85],
      ],
    );
    assert.deepEqual(hpa('outbox-poller').behavior, { scaleDown: { stabilizationWindowSeconds: 600 } });
    for (const app of ['file-merge', 'api', 'outbox-poller']) {
      assert.ok(!('replicas' in find(scaled, 'Deployment', app)!.spec), app);
    }
    // The budget goes by minReplicas: api (replicaCount 2, min 1) has none, outbox-poller (1, min 2) has one.
    assert.deepEqual(
      scaled
        .filter((doc) => doc.kind === 'PodDisruptionBudget')
        .map(appOf)
        .sort(),
      ['exporter', 'file-merge', 'message-router', 'outbox-poller'],
    );
  });

  test('autoscaling: min above max, zero or negative counts, a CPU target outside 1-100 or without a CPU request are refused', () => {
    const on = ['-f', EXAMPLE_VALUES, '--set', 'apps.message-router.autoscaling.enabled=true'];
    assert.match(
      renderError([
        ...on,
        '--set',
        'apps.message-router.autoscaling.minReplicas=7',
        '--set',
        'apps.message-router.autoscaling.maxReplicas=5',
      ]),
      /apps\.message-router\.autoscaling: minReplicas \(7\) > maxReplicas \(5\)/,
    );
    // Only the merged values can show it: a default maxReplicas (10) below the app's minReplicas.
    assert.match(
      renderError([...on, '--set', 'apps.message-router.autoscaling.minReplicas=12']),
      /apps\.message-router\.autoscaling: minReplicas \(12\) > maxReplicas \(10\)/,
    );
    for (const [key, value, want] of [
      ['minReplicas', '0', 'minimum'],
      ['maxReplicas', '-3', 'minimum'],
      ['targetCPUUtilizationPercentage', '0', 'minimum'],
      ['targetCPUUtilizationPercentage', '101', 'maximum'],
      ['targetMemoryUtilizationPercentage', '150', 'maximum'],
    ] as const) {
      const path = `apps.message-router.autoscaling.${key}`;
      assert.match(
        renderError([...on, '--set', `${path}=${value}`]),
        new RegExp(`'/${path.replaceAll('.', '/')}': ${want}`),
        path,
      );
    }
    assert.match(renderError([...on, '--set', 'autoscaling.maxReplicas=0']), /'\/autoscaling\/maxReplicas'/);
    assert.match(renderError([...on, '--set', 'autoscaling.enabled=true']), /'\/autoscaling\/enabled'/);
    assert.match(
      renderError([...on, '--set', 'apps.message-router.autoscaling.minReplica=3']),
      /'\/apps\/message-router\/autoscaling': additional properties 'minReplica'/,
    );
    assert.match(
      renderError(['-f', EXAMPLE_VALUES, '--set', 'apps.upload-gc.autoscaling.enabled=true']),
      /'\/apps\/upload-gc': additional properties 'autoscaling'/,
    );
    assert.match(
      renderError([...on, '--set-json', 'apps.message-router.resources={"limits":{"memory":"512Mi"}}']),
      /apps\.message-router\.autoscaling: targetCPUUtilizationPercentage needs a cpu request/,
    );
  });

  test('KEDA: no ScaledObject unless apps.<app>.keda.enabled (the CRD is not installed here)', () => {
    assert.deepEqual(
      docs.filter((doc) => doc.kind === 'ScaledObject' || String(doc.apiVersion).startsWith('keda.sh/')),
      [],
    );
    const one = renderChart(helm, ['--set', 'apps.file-merge.keda.enabled=true']);
    assert.deepEqual(one.filter((doc) => doc.kind === 'ScaledObject').map(appOf), ['file-merge']);
  });

  for (const namespace of ['', 'blue']) {
    test(`KEDA: each worker scales on the lag of its own consumer group and topic, as the app names them (topic namespace ${namespace || 'unset'})`, () => {
      const workers = Object.keys(KEDA_WORKERS);
      const scaled: Doc[] = renderChart(helm, [
        '--set',
        `kafka.topicNamespace=${namespace}`,
        '--set',
        'kafka.brokers=kafka-0.kafka:9092\\,kafka-1.kafka:9092',
        ...workers.flatMap((app) => ['--set', `apps.${app}.keda.enabled=true`]),
        '--set',
        'apps.exporter.keda.lagThreshold=50',
        '--set',
        'apps.file-merge.keda.minReplicaCount=0',
        '--set',
        'apps.generation.keda.minReplicaCount=2',
      ]);
      assert.deepEqual(
        scaled
          .filter((doc) => doc.kind === 'ScaledObject')
          .map(appOf)
          .sort(),
        workers.sort(),
      );
      for (const [app, { groupVar, topic }] of Object.entries(KEDA_WORKERS)) {
        const deployment = find(scaled, 'Deployment', app)!;
        // What the app itself subscribes with: its config from the rendered env, through @fleet/contracts.
        const env = envOf(scaled, deployment);
        const config = parseConfig(SCHEMAS[app]!, env) as Record<string, string> & {
          KAFKA_BROKERS: string[];
        };
        assert.equal(config.KAFKA_TOPIC_NAMESPACE, namespace || undefined, app);
        assert.deepEqual(config.KAFKA_BROKERS, ['kafka-0.kafka:9092', 'kafka-1.kafka:9092'], app);
        const spec = find(scaled, 'ScaledObject', app)!.spec as Doc;
        assert.deepEqual(spec.scaleTargetRef, { name: deployment.metadata.name }, app);
        assert.deepEqual(
          spec.triggers,
          [
            {
              type: 'kafka',
              metadata: {
                bootstrapServers: env.KAFKA_BROKERS,
                consumerGroup: groupInNamespace(config[groupVar]!, config.KAFKA_TOPIC_NAMESPACE),
                topic: inNamespace(topic, config.KAFKA_TOPIC_NAMESPACE).name,
                lagThreshold: app === 'exporter' ? '50' : '10',
              },
            },
          ],
          app,
        );
        assert.equal(spec.maxReplicaCount, 6, app);
        assert.ok(!('replicas' in deployment.spec), `${app}: KEDA's HPA owns the replica count`);
      }
      assert.equal(find(scaled, 'ScaledObject', 'file-merge')!.spec.minReplicaCount, 0);
      assert.equal(find(scaled, 'HorizontalPodAutoscaler', 'file-merge'), undefined, 'KEDA makes its own');
      // The budget goes by minReplicaCount: file-merge (3, min 0) has none, generation (1, min 2) has one.
      assert.deepEqual(
        scaled
          .filter((doc) => doc.kind === 'PodDisruptionBudget')
          .map(appOf)
          .sort(),
        ['api', 'generation'],
      );
    });
  }

  test('KEDA: refused together with autoscaling, without a group and topic, with min above max, on a CronJob', () => {
    const on = ['-f', EXAMPLE_VALUES, '--set', 'apps.message-router.keda.enabled=true'];
    assert.match(
      renderError([...on, '--set', 'apps.message-router.autoscaling.enabled=true']),
      /apps\.message-router: autoscaling\.enabled and keda\.enabled are both true/,
    );
    assert.match(
      renderError(['-f', EXAMPLE_VALUES, '--set', 'apps.api.keda.enabled=true']),
      /'\/apps\/api\/keda': missing properties 'consumerGroup', 'topic'/,
    );
    assert.match(
      renderError([...on, '--set', 'apps.message-router.keda.minReplicaCount=9']),
      /apps\.message-router\.keda: minReplicaCount \(9\) > maxReplicaCount \(6\)/,
    );
    assert.match(
      renderError([...on, '--set', 'apps.message-router.keda.minReplicaCount=-1']),
      /'\/apps\/message-router\/keda\/minReplicaCount': minimum/,
    );
    assert.match(
      renderError([...on, '--set', 'apps.message-router.keda.lagThreshold=0']),
      /'\/apps\/message-router\/keda\/lagThreshold': minimum/,
    );
    assert.match(renderError([...on, '--set', 'keda.topic=x']), /'\/keda\/topic'/);
    assert.match(
      renderError(['-f', EXAMPLE_VALUES, '--set', 'apps.upload-gc.keda.enabled=true']),
      /'\/apps\/upload-gc': additional properties 'keda'/,
    );
    assert.match(
      notes(on),
      /message-router: 1 to 6 replicas \(KEDA, lag of message-router on chat\.message\.outgoing\.1\)/,
    );
  });

  test("an optional Ingress routes the api's host to its http port", () => {
    assert.equal(docs.filter((doc) => doc.kind === 'Ingress').length, 0, 'off by default');
    const withIngress: Doc[] = renderChart(helm, [
      '--set',
      'apps.api.ingress.enabled=true',
      '--set',
      'apps.api.ingress.host=chat.example.org',
    ]);
    const rule = withIngress.find((doc) => doc.kind === 'Ingress')!.spec.rules[0];
    assert.equal(rule.host, 'chat.example.org');
    assert.deepEqual(rule.http.paths[0].backend.service, { name: 'fleet-api', port: { name: 'http' } });
  });

  test('a config change rolls the pods (checksum of the ConfigMap on the pod template)', () => {
    const before = find(docs, 'Deployment', 'api')!.spec.template.metadata.annotations['checksum/config'];
    const changed = renderChart(helm, ['--set', 'logLevel=debug']);
    assert.notEqual(
      find(changed, 'Deployment', 'api')!.spec.template.metadata.annotations['checksum/config'],
      before,
    );
  });

  test('bad values are refused, naming what is wrong', () => {
    assert.match(
      renderError(['-f', EXAMPLE_VALUES, '--set', 'apps.file-merge.replicaCount=-1']),
      /replicaCount/,
    );
    assert.match(renderError(['-f', EXAMPLE_VALUES, '--set', 'apps.filemerge.replicaCount=2']), /filemerge/);
    assert.match(renderError(['-f', EXAMPLE_VALUES, '--set', 'apps.upload-gc.schedule=daily']), /schedule/);
    // A misspelt key of an app would be ignored: refused, at its path.
    assert.match(
      renderError(['-f', EXAMPLE_VALUES, '--set', 'apps.file-merge.replicas=5']),
      /'\/apps\/file-merge': additional properties 'replicas'/,
    );
    assert.match(
      renderError(['-f', EXAMPLE_VALUES, '--set', 'apps.upload-gc.replicaCount=2']),
      /'\/apps\/upload-gc': additional properties 'replicaCount'/,
    );
    assert.match(
      renderError(['-f', EXAMPLE_VALUES, '--set', 'apps.file-merge.env.merge_group=x']),
      /'\/apps\/file-merge\/env': additional properties 'merge_group'/,
    );
    // The apps refuse any namespace but one lower-case segment (@fleet/contracts inNamespace).
    assert.match(
      renderError(['-f', EXAMPLE_VALUES, '--set', 'kafka.topicNamespace=Blue.fleet']),
      /'\/kafka\/topicNamespace'/,
    );
    // Without the example values, the settings that have no default are required.
    assert.match(renderError([]), /apps\.(message-router|generation)\.env\.[A-Z_]+ is required/);
  });

  test('credentials.existingSecret, when set, wins over credentials.secretName in every secretKeyRef', () => {
    const byDefault = secretRefNames(docs);
    assert.ok(byDefault.length > 10, 'apps, cron jobs and the migrations read the Secret');
    assert.deepEqual(new Set(byDefault), new Set(['fleet-credentials']));
    const named = secretRefNames(renderChart(helm, ['--set', 'credentials.secretName=fleet-prod']));
    assert.deepEqual(new Set(named), new Set(['fleet-prod']));
    const existing = secretRefNames(
      renderChart(helm, [
        '--set',
        'credentials.secretName=fleet-prod',
        '--set',
        'credentials.existingSecret=vault-fleet',
      ]),
    );
    assert.deepEqual(new Set(existing), new Set(['vault-fleet']));
    assert.equal(existing.length, byDefault.length, 'every reference follows it');
    assert.match(
      renderError(['-f', EXAMPLE_VALUES, '--set', 'credentials.existingSecret=Vault_Fleet']),
      /'\/credentials\/existingSecret'/,
    );
  });

  test('a pre-install/pre-upgrade hook Job runs the migrations, app after app', () => {
    const job = docs.find((doc) => doc.kind === 'Job')!;
    assert.equal(job.metadata.annotations['helm.sh/hook'], 'pre-install,pre-upgrade');
    const spec = job.spec.template.spec;
    const steps = [...spec.initContainers, ...spec.containers] as Container[];
    assert.deepEqual(
      steps.map((c) => [c.image, c.command.join(' ')]),
      ['api', 'message-router', 'outbox-poller'].map((app) => [`fleet/${app}:0.1.0`, 'node migrate.js up']),
    );
    for (const step of steps) assert.equal(step.env![0]!.valueFrom.secretKeyRef.key, 'DATABASE_URL');
  });

  test('observability: a dashboard ConfigMap per dashboard for the Grafana sidecar; ServiceMonitors and the PrometheusRule when enabled', () => {
    const dashboards = readdirSync(join(ROOT, 'deploy/grafana/dashboards')).filter((f) =>
      f.endsWith('.json'),
    );
    const configMaps = (all: Doc[]) =>
      all.filter((doc) => doc.kind === 'ConfigMap' && doc.metadata.labels.grafana_dashboard === '1');
    const shipped = configMaps(docs);
    assert.deepEqual(
      shipped.map((doc) => Object.keys(doc.data as Record<string, string>)[0]).sort(),
      dashboards.sort(),
    );
    for (const doc of shipped) {
      const [file, json] = Object.entries(doc.data as Record<string, string>)[0]!;
      assert.equal(json, readFileSync(join(ROOT, 'deploy/grafana/dashboards', file), 'utf8').trimEnd(), file);
      assert.equal(doc.metadata.annotations?.grafana_folder, 'Fleet');
    }
    assert.equal(
      docs.filter((doc) => doc.kind === 'ServiceMonitor' || doc.kind === 'PrometheusRule').length,
      0,
    );

    const relabelled = renderChart(helm, [
      '--set',
      'observability.dashboards.label=dashboards',
      '--set',
      'observability.dashboards.labelValue=fleet',
    ]);
    assert.equal(
      relabelled.filter((doc) => doc.kind === 'ConfigMap' && doc.metadata.labels.dashboards === 'fleet')
        .length,
      dashboards.length,
    );
    const off = renderChart(helm, ['--set', 'observability.dashboards.enabled=false']);
    assert.equal(configMaps(off).length, 0);

    const operator = renderChart(helm, [
      '--set',
      'observability.serviceMonitor.enabled=true',
      '--set',
      'observability.serviceMonitor.labels.release=kube-prometheus-stack',
      '--set',
      'observability.prometheusRule.enabled=true',
    ]);
    const monitors = operator.filter((doc) => doc.kind === 'ServiceMonitor');
    const services = operator
      .filter((doc) => doc.kind === 'Service')
      .map(appOf)
      .sort();
    assert.deepEqual(monitors.map(appOf).sort(), services, 'one ServiceMonitor per app Service');
    for (const monitor of monitors) {
      assert.equal(monitor.metadata.labels.release, 'kube-prometheus-stack');
      const spec = monitor.spec as { endpoints: Array<{ port: string; path: string }> };
      assert.deepEqual([spec.endpoints[0]!.port, spec.endpoints[0]!.path], ['health', '/metrics']);
    }
    const rule = operator.find((doc) => doc.kind === 'PrometheusRule');
    assert.ok(rule);
    assert.deepEqual(
      rule.spec,
      parseYaml(readFileSync(join(ROOT, 'deploy/prometheus/rules/fleet-alerts.yml'), 'utf8')),
      'the PrometheusRule carries the rule file as generated',
    );
  });

  test('observability: dashboards, ServiceMonitors and the PrometheusRule each render nothing while their value is off', () => {
    /** The kinds templates/observability.yaml renders (helm's `# Source:` line of each object). */
    const observabilityKinds = (enabled: string[]) => {
      const toggles = ['dashboards', 'serviceMonitor', 'prometheusRule'].flatMap((name) => [
        '--set',
        `observability.${name}.enabled=${enabled.includes(name)}`,
      ]);
      const out = execFileSync(helm, ['template', 'fleet', CHART, '-f', EXAMPLE_VALUES, ...toggles], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const kinds = out
        .split(/^---$/m)
        .filter((doc) => doc.includes('# Source: fleet/templates/observability.yaml'))
        .map((doc) => (parseYaml(doc) as Doc).kind as string);
      return [...new Set(kinds)].sort();
    };
    assert.deepEqual(observabilityKinds([]), [], 'all off: nothing at all');
    assert.deepEqual(observabilityKinds(['dashboards']), ['ConfigMap']);
    assert.deepEqual(observabilityKinds(['serviceMonitor']), ['ServiceMonitor']);
    assert.deepEqual(observabilityKinds(['prometheusRule']), ['PrometheusRule']);
    assert.deepEqual(observabilityKinds(['dashboards', 'serviceMonitor', 'prometheusRule']), [
      'ConfigMap',
      'PrometheusRule',
      'ServiceMonitor',
    ]);
  });

  test('k8s/ holds the chart rendered plain (npm run render:k8s), without Helm labels or hooks', async () => {
    const files = await plainManifests(helm);
    for (const [path, content] of files) {
      assert.ok(existsSync(join(ROOT, path)), `${path} is missing: npm run render:k8s`);
      assert.equal(readFileSync(join(ROOT, path), 'utf8'), content, `${path} is stale: npm run render:k8s`);
      assert.doesNotMatch(content, /helm\.sh|managed-by/, path);
    }
    const onDisk = readdirSync(join(ROOT, 'k8s'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `k8s/${entry.name}/manifests.yaml`);
    assert.deepEqual(onDisk.sort(), [...files.keys()].sort(), 'k8s/ has a folder the chart does not render');
  });
});
