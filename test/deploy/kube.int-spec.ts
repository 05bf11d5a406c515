// The chart installed into a real Kubernetes control plane (tools/kube/cluster: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler built from their Go modules; kwok
// playing the kubelets of 3 nodes, so pods are scheduled and reported Running without a container
// runtime — images need not exist). Each run works in namespaces of its own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@fleet/kafka/testing';
import { WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { CHART, EXAMPLE_VALUES } from '../../tools/render-k8s';
import { startKubeCluster, type CommandResult, type KubeCluster } from './kube-cluster';

// Objects from the API server are walked freely here: their shape is what the assertions check.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const RELEASE = 'fleet';
const run = randomBytes(3).toString('hex');
const NS = `fleet-${run}`;
const BAD_NS = `fleet-bad-${run}`;
const HPA_NS = `fleet-hpa-${run}`;
const HPA_VALUES = join(CHART, 'ci/hpa-values.yaml');

/** The keys the apps' `secretEnv` name; values only need to exist (kwok starts no container). */
const SECRET_KEYS = [
  'DATABASE_URL',
  'AUTH_JWT_PUBLIC_KEY',
  'WHATSAPP_APP_SECRET',
  'WHATSAPP_VERIFY_TOKEN',
  'INSTAGRAM_APP_SECRET',
  'INSTAGRAM_VERIFY_TOKEN',
  'WHATSAPP_ACCESS_TOKEN',
  'INSTAGRAM_ACCESS_TOKEN',
  'MINIO_ACCESS_KEY',
  'MINIO_SECRET_KEY',
  'WORKER_CALLBACK_SECRET',
  'EXPORT_SIGNING_KEY_PEM',
];

let k: KubeCluster;

const ok = (result: CommandResult, what: string): string => {
  assert.equal(result.code, 0, `${what}: ${result.stderr || result.stdout}`);
  return result.stdout;
};

async function getJson(args: readonly string[]): Promise<Obj> {
  return JSON.parse(ok(await k.kubectl([...args, '-o', 'json']), `kubectl get ${args.join(' ')}`)) as Obj;
}

const appOf = (o: Obj) => (o.metadata.labels ?? {})['app.kubernetes.io/name'] as string | undefined;

/** Running pods per app (pods being deleted left out). */
async function runningPods(ns: string): Promise<Map<string, Obj[]>> {
  const pods = (await getJson(['get', 'pods', '-n', ns])).items as Obj[];
  const byApp = new Map<string, Obj[]>();
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp || pod.status.phase !== 'Running') continue;
    const app = appOf(pod) ?? '?';
    byApp.set(app, [...(byApp.get(app) ?? []), pod]);
  }
  return byApp;
}

const podNames = (byApp: Map<string, Obj[]>) =>
  Object.fromEntries(
    [...byApp].map(([app, pods]) => [app, pods.map((p) => p.metadata.name as string).sort()]),
  );

async function deployments(ns: string): Promise<Map<string, Obj>> {
  const items = (await getJson(['get', 'deployments', '-n', ns])).items as Obj[];
  return new Map(items.map((d) => [appOf(d)!, d]));
}

/** Waits until every Deployment of the namespace has all its replicas updated and available. */
async function settled(ns: string): Promise<void> {
  await waitFor(
    `every Deployment in ${ns} rolled out`,
    async () => {
      const all = [...(await deployments(ns)).values()];
      const pods = await runningPods(ns);
      return all.every((d) => {
        const want = d.spec.replicas ?? 1;
        const s = d.status ?? {};
        return (
          s.observedGeneration === d.metadata.generation &&
          s.updatedReplicas === want &&
          s.availableReplicas === want &&
          (s.replicas ?? 0) === want &&
          (pods.get(appOf(d)!)?.length ?? 0) === want
        );
      });
    },
    120_000,
  );
}

/** Names of the objects of `kinds` in `ns` that carry the release's instance label. */
async function releaseObjects(ns: string, kinds: string): Promise<string> {
  const args = ['get', kinds, '-n', ns, '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'name'];
  return ok(await k.kubectl(args), `kubectl get ${kinds}`).trim();
}

const installArgs = (ns: string, ...extra: string[]) => [
  'upgrade',
  '--install',
  RELEASE,
  CHART,
  '-n',
  ns,
  '-f',
  EXAMPLE_VALUES,
  '--wait',
  '--timeout',
  '3m',
  ...extra,
];

async function createNamespace(ns: string, withSecret: boolean): Promise<void> {
  ok(await k.kubectl(['create', 'namespace', ns]), `namespace ${ns}`);
  if (withSecret) {
    ok(
      await k.kubectl([
        'create',
        'secret',
        'generic',
        'fleet-credentials',
        '-n',
        ns,
        ...SECRET_KEYS.map((key) => `--from-literal=${key}=local-${key.toLowerCase()}`),
      ]),
      'credentials Secret',
    );
  }
}

/** Components' resident memory, from /proc (the control plane runs on this machine). */
async function controlPlaneRss(): Promise<string> {
  const out = await new Promise<string>((resolve) => {
    const ps = spawn('ps', ['-eo', 'rss=,args=']);
    let text = '';
    ps.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    ps.on('close', () => resolve(text));
  });
  const parts: string[] = [];
  let total = 0;
  for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok']) {
    const line = out
      .split('\n')
      .find((l) => l.includes(`/${name} `) && l.includes(join(WORKSPACE_ROOT, '.local/kube')));
    const kib = line ? Number(line.trim().split(/\s+/)[0]) : 0;
    total += kib;
    parts.push(`${name} ${Math.round(kib / 1024)}`);
  }
  return `${parts.join(', ')} MiB; ${Math.round(total / 1024)} MiB in all`;
}

describe('helm/fleet in a real control plane (kube-apiserver, controller-manager, scheduler; kwok nodes)', () => {
  before(async () => {
    k = startKubeCluster();
    await createNamespace(NS, true);
  });

  after(async () => {
    if (!k) return;
    for (const ns of [NS, HPA_NS, BAD_NS]) await k.kubectl(['delete', 'namespace', ns, '--wait=false']);
    k.release();
  });

  test('every object of k8s/ and of the chart passes server-side validation', async () => {
    const plain = await k.kubectl([
      'apply',
      '--dry-run=server',
      '-n',
      NS,
      '-R',
      '-f',
      join(WORKSPACE_ROOT, 'k8s'),
    ]);
    const accepted = ok(plain, 'kubectl apply --dry-run=server -f k8s/').trim().split('\n');
    assert.ok(
      accepted.every((line) => /\(server dry run\)$/.test(line)),
      accepted.join('\n'),
    );
    assert.ok(accepted.length >= 40, `${accepted.length} objects`);
    ok(
      await k.helm(['install', RELEASE, CHART, '-n', NS, '-f', EXAMPLE_VALUES, '--dry-run=server']),
      'helm install --dry-run=server',
    );
  });

  test('helm install --wait: the migrations hook Job completes before any app pod exists; then every app Running', async () => {
    // Watch the namespace's pods from before the install: the order of what the API server saw.
    const events: string[] = [];
    const watcher = spawn(
      join(k.bin, 'kubectl'),
      [
        'get',
        'pods',
        '-n',
        NS,
        '--watch',
        '--output-watch-events',
        '-o',
        'jsonpath={.type} {.object.metadata.name} {.object.metadata.labels.app\\.kubernetes\\.io/name} {.object.status.phase}{"\\n"}',
      ],
      { env: { ...process.env, KUBECONFIG: k.kubeconfig } },
    );
    watcher.stdout.on('data', (chunk: Buffer) =>
      events.push(...chunk.toString().split('\n').filter(Boolean)),
    );
    await sleep(1_000); // the watch established before the install begins
    const started = Date.now();
    ok(await k.helm(installArgs(NS)), 'helm install');
    const installMs = Date.now() - started;
    await settled(NS);
    watcher.kill();

    const parsed = events.map((line) => {
      const [type, name, app, phase] = line.split(' ');
      return { type, name, app, phase };
    });
    const migrationDone = parsed.findIndex((e) => e.app === 'migrations' && e.phase === 'Succeeded');
    const firstAppPod = parsed.findIndex((e) => e.type === 'ADDED' && e.app !== 'migrations');
    assert.ok(migrationDone >= 0, `the migrations pod succeeded:\n${events.join('\n')}`);
    assert.ok(
      firstAppPod > migrationDone,
      `the first app pod (#${firstAppPod}) after the migrations pod succeeded (#${migrationDone}):\n${events.join('\n')}`,
    );
    const hook = await k.kubectl(['get', 'job', `${RELEASE}-migrations`, '-n', NS]);
    assert.notEqual(hook.code, 0, 'the succeeded hook Job is deleted (hook-delete-policy)');

    const pods = await runningPods(NS);
    const want = Object.fromEntries(
      [...(await deployments(NS))].map(([app, d]) => [app, d.spec.replicas as number]),
    );
    assert.deepEqual(
      Object.fromEntries([...pods].map(([app, list]) => [app, list.length])),
      want,
      'Running pods per app = its replicas',
    );
    const nodes = new Set([...pods.values()].flat().map((p) => p.spec.nodeName as string));
    assert.ok(nodes.size >= 2, `pods spread over the kwok nodes: ${[...nodes].join(', ')}`);
    console.log(
      `helm install --wait: ${installMs} ms, ${[...pods.values()].flat().length} pods Running on ${nodes.size} nodes; control plane RSS: ${await controlPlaneRss()}`,
    );
    console.log(ok(await k.kubectl(['get', 'pods', '-A', '-o', 'wide']), 'get pods -A'));
  });

  test('PodDisruptionBudgets exist exactly for the apps with more than one replica', async () => {
    const pdbs = ((await getJson(['get', 'pdb', '-n', NS])).items as Obj[]).map((p) => appOf(p)).sort();
    const multi = [...(await deployments(NS))]
      .filter(([, d]) => (d.spec.replicas as number) > 1)
      .map(([app]) => app)
      .sort();
    assert.ok(multi.length > 0);
    assert.deepEqual(pdbs, multi);
  });

  test('kubectl scale deployment/…-message-router --replicas=5: 5 of its pods Running, every other app untouched', async () => {
    const before = podNames(await runningPods(NS));
    ok(
      await k.kubectl(['scale', `deployment/${RELEASE}-message-router`, '--replicas=5', '-n', NS]),
      'kubectl scale',
    );
    await settled(NS);
    const after = podNames(await runningPods(NS));
    assert.equal(after['message-router']!.length, 5);
    for (const name of before['message-router']!) {
      assert.ok(after['message-router']!.includes(name), `${name} kept`);
    }
    for (const app of Object.keys(before).filter((a) => a !== 'message-router')) {
      assert.deepEqual(after[app], before[app], `${app} unchanged`);
    }
    console.log(ok(await k.kubectl(['get', 'pods', '-A']), 'get pods -A'));
  });

  test('helm upgrade changing one app’s env rolls only that app’s pods; helm rollback restores the revision', async () => {
    const before = podNames(await runningPods(NS));
    // Helm 4 upgrades with server-side apply: after the `kubectl scale` above, `.spec.replicas` of
    // message-router belongs to kubectl, and a plain upgrade refuses the conflict (what an operator
    // meets too). --force-conflicts gives the field back to the chart: replicaCount again.
    const refused = await k.helm(installArgs(NS, '--set', 'apps.outbox-poller.env.LOG_LEVEL=debug'));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /conflict with "kubectl" with subresource "scale"[^\n]*\.spec\.replicas/);
    ok(
      await k.helm(installArgs(NS, '--force-conflicts', '--set', 'apps.outbox-poller.env.LOG_LEVEL=debug')),
      'helm upgrade --force-conflicts',
    );
    await settled(NS);
    const upgraded = podNames(await runningPods(NS));
    assert.equal(upgraded['outbox-poller']!.length, before['outbox-poller']!.length);
    assert.ok(
      upgraded['outbox-poller']!.every((name) => !before['outbox-poller']!.includes(name)),
      'outbox-poller rolled',
    );
    for (const app of Object.keys(before).filter((a) => a !== 'outbox-poller' && a !== 'message-router')) {
      assert.deepEqual(upgraded[app], before[app], `${app} not rolled`);
    }
    // message-router: back to its replicaCount by scaling down, not rolled (its pods are kept).
    const replicaCount = (await deployments(NS)).get('message-router')!.spec.replicas as number;
    assert.equal(replicaCount, 2);
    assert.equal(upgraded['message-router']!.length, 2);
    assert.ok(upgraded['message-router']!.every((name) => before['message-router']!.includes(name)));
    const config = await getJson(['get', 'configmap', `${RELEASE}-outbox-poller`, '-n', NS]);
    assert.equal(config.data.LOG_LEVEL, 'debug');

    const history = JSON.parse(
      ok(await k.helm(['history', RELEASE, '-n', NS, '-o', 'json']), 'history'),
    ) as Obj[];
    // The refused upgrade is a FAILED revision of its own: go back to the last one that was deployed.
    const previous = history.filter((h) => h.status === 'superseded').at(-1)!.revision as number;
    ok(await k.helm(['rollback', RELEASE, String(previous), '-n', NS, '--wait']), 'helm rollback');
    await settled(NS);
    const restored = await getJson(['get', 'configmap', `${RELEASE}-outbox-poller`, '-n', NS]);
    assert.notEqual(restored.data.LOG_LEVEL, 'debug');
    const status = JSON.parse(ok(await k.helm(['status', RELEASE, '-n', NS, '-o', 'json']), 'status')) as Obj;
    assert.equal(status.info.status, 'deployed');
    assert.equal(status.version, (history.at(-1)!.revision as number) + 1, 'the rollback is a new revision');
  });

  test('the upload-gc CronJob, triggered by kubectl create job --from=cronjob/…, produces its Job, which completes', async () => {
    ok(
      await k.kubectl(['create', 'job', `gc-now-${run}`, `--from=cronjob/${RELEASE}-upload-gc`, '-n', NS]),
      'kubectl create job --from',
    );
    await waitFor(
      'the Job complete',
      async () => {
        const job = await getJson(['get', 'job', `gc-now-${run}`, '-n', NS]);
        return (job.status?.succeeded ?? 0) >= 1;
      },
      60_000,
    );
    const job = await getJson(['get', 'job', `gc-now-${run}`, '-n', NS]);
    assert.equal(job.spec.template.spec.containers[0].name, 'upload-gc');
  });

  test('the HPA example (message-router 5–50 at 70 % CPU): the controller-manager scales it to 5, nothing else changes', async () => {
    await createNamespace(HPA_NS, true);
    ok(await k.helm(installArgs(HPA_NS, '-f', HPA_VALUES)), 'helm install with hpa-values');
    const hpa = await getJson(['get', 'hpa', `${RELEASE}-message-router`, '-n', HPA_NS]);
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [5, 50]);
    assert.equal(hpa.spec.metrics[0].resource.target.averageUtilization, 70);
    await waitFor(
      'the HPA scaled message-router to its minimum',
      async () => (await deployments(HPA_NS)).get('message-router')?.spec.replicas === 5,
      60_000,
    );
    await settled(HPA_NS);
    const pods = podNames(await runningPods(HPA_NS));
    assert.equal(pods['message-router']!.length, 5);
    for (const [app, d] of [...(await deployments(HPA_NS))].filter(([a]) => a !== 'message-router')) {
      assert.equal(pods[app]!.length, d.spec.replicas, app);
    }
  });

  test('bad values are refused at helm install with the value’s path, and nothing is installed', async () => {
    await createNamespace(BAD_NS, false);
    const cases: Array<[string[], RegExp]> = [
      [['--set', 'apps.api.bogus=1'], /bogus/],
      [['--set', 'apps.file-merge.replicaCount=-1'], /replicaCount/],
      [['--set', 'apps.message-router.env.WHATSAPP_PHONE_NUMBER_ID='], /WHATSAPP_PHONE_NUMBER_ID/],
      [['--set', 'apps.filemerge.replicaCount=2'], /filemerge/],
      [['--set', 'apps.upload-gc.schedule=daily'], /schedule/],
      [
        [
          '--set',
          'apps.message-router.autoscaling.enabled=true',
          '--set',
          'apps.message-router.autoscaling.minReplicas=7',
          '--set',
          'apps.message-router.autoscaling.maxReplicas=5',
        ],
        /minReplicas \(7\) > maxReplicas \(5\)/,
      ],
    ];
    for (const [args, reason] of cases) {
      const result = await k.helm(['install', RELEASE, CHART, '-n', BAD_NS, '-f', EXAMPLE_VALUES, ...args]);
      assert.notEqual(result.code, 0, `${args.join(' ')} installed`);
      assert.match(result.stderr, reason, args.join(' '));
    }
    assert.equal(ok(await k.helm(['list', '-n', BAD_NS, '-q']), 'helm list').trim(), '');
    assert.equal(await releaseObjects(BAD_NS, 'all,configmap,pdb,secret'), '', 'nothing of the release');
  });

  test('helm uninstall leaves nothing of the release behind', async () => {
    const kinds = ok(
      await k.kubectl(['api-resources', '--verbs=list', '--namespaced', '-o', 'name']),
      'api-resources',
    )
      .trim()
      .split('\n')
      .filter((kind) => kind !== 'events' && kind !== 'events.events.k8s.io')
      .join(',');
    for (const ns of [NS, HPA_NS]) {
      ok(await k.helm(['uninstall', RELEASE, '-n', ns, '--wait']), `helm uninstall in ${ns}`);
      await waitFor(
        `nothing of the release left in ${ns}`,
        async () => (await releaseObjects(ns, kinds)) === '',
        60_000,
      );
      const secrets = ((await getJson(['get', 'secrets', '-n', ns])).items as Obj[]).map(
        (s) => s.metadata.name as string,
      );
      assert.deepEqual(secrets, ['fleet-credentials'], 'no helm release Secret left, only the user’s own');
    }
  });
});
