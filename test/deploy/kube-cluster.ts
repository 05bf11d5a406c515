/**
 * The local Kubernetes control plane of tools/kube/cluster (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, kwok nodes), for tests that install the chart for real.
 * Started once and reused: a test file that found it running leaves it running.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { helmBinary } from '../../tools/render-k8s';

const CLUSTER = join(WORKSPACE_ROOT, 'tools/kube/cluster');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubeCluster {
  kubeconfig: string;
  /** The directory of kubectl and the control plane's binaries. */
  bin: string;
  /** kubectl with the cluster's kubeconfig; resolves with its exit code, never throws. */
  kubectl(args: readonly string[], input?: string): Promise<CommandResult>;
  /** helm with the cluster's kubeconfig; resolves with its exit code, never throws. */
  helm(args: readonly string[]): Promise<CommandResult>;
  /** Stops the control plane if this process started it. */
  release(): void;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, input?: string) {
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
    child.stdin.end(input ?? '');
  });
}

export function startKubeCluster(): KubeCluster {
  const wasUp = spawnSync('bash', [CLUSTER, 'status'], { stdio: 'ignore' }).status === 0;
  if (!wasUp) execFileSync('bash', [CLUSTER, 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const env = Object.fromEntries(
    execFileSync('bash', [CLUSTER, 'env'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => line.replace(/^export /, '').split('=', 2) as [string, string]),
  );
  const bin = env.PATH!.replace(/:\$PATH$/, '');
  const kubeconfig = env.KUBECONFIG!;
  const childEnv = { ...process.env, KUBECONFIG: kubeconfig, PATH: `${bin}:${process.env.PATH}` };
  const helm = helmBinary();
  return {
    kubeconfig,
    bin,
    kubectl: (args, input) => run(join(bin, 'kubectl'), args, childEnv, input),
    helm: (args) => run(helm, args, childEnv),
    release: () => {
      if (!wasUp) execFileSync('bash', [CLUSTER, 'down'], { stdio: ['ignore', 'inherit', 'inherit'] });
    },
  };
}
