/**
 * The generated dashboards and alert rules, checked without the fleet: committed files current
 * (npm run render:observability), the rule file accepted by `promtool check rules` and every alert
 * fired and resolved by `promtool test rules`, every panel on the dashboard's datasource variable.
 * The live check of every query against the real apps is dashboards-live.e2e-spec.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { stringify } from 'yaml';
import { ALERTS, ruleFile } from '../../tools/observability/alerts';
import { DASHBOARDS } from '../../tools/observability/dashboards';
import { observabilityFiles, RULE_FILE, RULE_TEST_FILE } from '../../tools/render-observability';
import { infraTool } from './prometheus';

function promtool(args: string[]): { code: number; output: string } {
  try {
    const output = execFileSync(infraTool('promtool'), args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, output };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { code: e.status, output: `${e.stdout}${e.stderr}` };
  }
}

interface PanelJson {
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; datasource?: { type: string; uid: string } }>;
}

describe('dashboards and alert rules as code', () => {
  test('the committed files are what tools/observability generates (npm run render:observability)', async () => {
    for (const [path, content] of await observabilityFiles()) {
      assert.equal(
        readFileSync(join(WORKSPACE_ROOT, path), 'utf8'),
        content,
        `${path} is stale: npm run render:observability`,
      );
    }
  });

  test('promtool check rules accepts the rule file; a broken expression is refused, named', () => {
    const checked = promtool(['check', 'rules', join(WORKSPACE_ROOT, RULE_FILE)]);
    assert.equal(checked.code, 0, checked.output);
    assert.match(checked.output, new RegExp(`SUCCESS: ${ALERTS.length} rules found`));

    const broken = ruleFile() as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    broken.groups[0]!.rules[1]!.expr =
      'sum by (topic (increase(kafka_messages_dead_lettered_total[10m])) > 0';
    const file = join(mkdtempSync(join(tmpdir(), 'rules-')), 'broken.yml');
    writeFileSync(file, stringify(broken));
    const refused = promtool(['check', 'rules', file]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, new RegExp(broken.groups[0]!.rules[1]!.alert));
  });

  test('promtool test rules: every alert fires with its labels and summary, then resolves', () => {
    const tested = promtool(['test', 'rules', join(WORKSPACE_ROOT, RULE_TEST_FILE)]);
    assert.equal(tested.code, 0, tested.output);
    assert.match(tested.output, /SUCCESS/);
    const cases = readFileSync(join(WORKSPACE_ROOT, RULE_TEST_FILE), 'utf8');
    for (const alert of ALERTS) {
      assert.ok(cases.includes(`alertname: ${alert.alert}`), `${alert.alert} has a test case`);
      assert.ok(alert.runbook.length > 20, `${alert.alert} has a runbook line`);
    }
  });

  test('every panel and query uses the dashboard’s Prometheus datasource variable', () => {
    const problems: string[] = [];
    for (const spec of DASHBOARDS) {
      const path = join(WORKSPACE_ROOT, 'deploy/grafana/dashboards', `${spec.uid}.json`);
      const dashboard = JSON.parse(readFileSync(path, 'utf8')) as {
        uid: string;
        templating: { list: Array<{ name: string; type: string; query: string }> };
        panels: PanelJson[];
      };
      const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
      if (variable?.type !== 'datasource' || variable.query !== 'prometheus')
        problems.push(`${spec.title}: no Prometheus datasource variable`);
      for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
        const refs = [panel.datasource, ...(panel.targets ?? []).map((t) => t.datasource)];
        if (refs.some((ref) => ref?.type !== 'prometheus' || ref.uid !== '${datasource}'))
          problems.push(`${spec.title} / ${panel.title}: a datasource other than \${datasource}`);
        if (!panel.targets?.length) problems.push(`${spec.title} / ${panel.title}: no query`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
