/**
 * A real Prometheus (and Pushgateway, for upload-gc's run metrics) for a test: the binaries
 * tools/infra installs, on free ports, scraping the test's app processes every second and
 * evaluating the fleet's alert rules — so queries see the apps' own series a few seconds after a
 * workload, not after the local stack's 15 s scrapes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { stringify } from 'yaml';

/** A binary tools/infra installs (apt), or a setup error saying how to get it. */
export function infraTool(name: 'promtool' | 'pushgateway'): string {
  try {
    return execFileSync('bash', [join(WORKSPACE_ROOT, 'tools/infra'), 'tool', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  } catch {
    throw new Error(`setup: ${name} is missing and could not be installed (bash tools/infra tool ${name})`);
  }
}

function prometheusBinary(): string {
  const promtool = infraTool('promtool');
  return join(promtool, '../prometheus');
}

export interface ScrapeTarget {
  job: string;
  port: number;
}

async function waitReady(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`setup: ${what} exited (${child.exitCode})`);
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(100);
  }
  throw new Error(`setup: ${what} not ready at ${url} within 30 s`);
}

export class TestPrometheus {
  private constructor(
    readonly url: string,
    readonly pushgatewayUrl: string,
    private readonly children: ChildProcess[],
    private readonly dir: string,
  ) {}

  static async start(targets: ScrapeTarget[], ruleFiles: string[]): Promise<TestPrometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'test-prometheus-'));
    const children: ChildProcess[] = [];
    const pushPort = await freePort();
    const pushgateway = spawn(infraTool('pushgateway'), [`--web.listen-address=127.0.0.1:${pushPort}`], {
      stdio: 'ignore',
    });
    children.push(pushgateway);
    const pushgatewayUrl = `http://127.0.0.1:${pushPort}`;
    await waitReady(`${pushgatewayUrl}/-/ready`, pushgateway, 'pushgateway');

    const port = await freePort();
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: ruleFiles,
      scrape_configs: [
        {
          job_name: 'fleet',
          static_configs: targets.map((t) => ({ targets: [`127.0.0.1:${t.port}`], labels: { job: t.job } })),
        },
        // As the chart's ServiceMonitor would: the pushed job label is kept.
        {
          job_name: 'pushgateway',
          honor_labels: true,
          static_configs: [{ targets: [`127.0.0.1:${pushPort}`] }],
        },
      ],
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const prometheus = spawn(
      prometheusBinary(),
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    children.push(prometheus);
    const url = `http://127.0.0.1:${port}`;
    await waitReady(`${url}/-/ready`, prometheus, 'prometheus');
    return new TestPrometheus(url, pushgatewayUrl, children, dir);
  }

  /** An instant query's result vector (throws on a query Prometheus refuses, with its error). */
  async query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: {
        resultType: string;
        result: Array<{ metric: Record<string, string>; value: [number, string] }>;
      };
    };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data!.resultType === 'vector' ? body.data!.result : [];
  }

  /** Every target's health, once each has been scraped. */
  async targets(): Promise<Array<{ job: string; health: string; lastError: string }>> {
    const body = (await (await fetch(`${this.url}/api/v1/targets`)).json()) as {
      data: { activeTargets: Array<{ labels: { job: string }; health: string; lastError: string }> };
    };
    return body.data.activeTargets.map((t) => ({
      job: t.labels.job,
      health: t.health,
      lastError: t.lastError,
    }));
  }

  /** The loaded alert rules with their evaluation health. */
  async rules(): Promise<Array<{ name: string; health: string; lastError?: string; state: string }>> {
    const body = (await (await fetch(`${this.url}/api/v1/rules?type=alert`)).json()) as {
      data: {
        groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string; state: string }> }>;
      };
    };
    return body.data.groups.flatMap((g) => g.rules);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}
