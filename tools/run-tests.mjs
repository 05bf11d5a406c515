#!/usr/bin/env node
// Runs one tier of the test suite with node's built-in test runner, TypeScript loaded through SWC
// (decorator metadata and tsconfig paths included), and writes a TAP report per tier to .reports/.
//
//   node tools/run-tests.mjs <unit|integration|e2e> [path ...]
//
// Tiers by suffix (STYLE.md): *.spec.ts (no I/O), *.int-spec.ts (real local servers),
// *.e2e-spec.ts (the fleet, under test/). Paths (folders or test files) narrow the run.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, globSync } from 'node:fs';
import { join, resolve } from 'node:path';

const TIERS = {
  unit: { suffix: '.spec.ts', concurrency: 2, timeoutMs: 60_000 },
  // Integration and e2e files share one broker and database: run files one at a time so their
  // timings stay honest on a 2-core machine; isolation comes from fresh topic/group/schema names.
  integration: { suffix: '.int-spec.ts', concurrency: 1, timeoutMs: 300_000 },
  e2e: { suffix: '.e2e-spec.ts', concurrency: 1, timeoutMs: 600_000 },
};

const root = resolve(import.meta.dirname, '..');
const [tier, ...roots] = process.argv.slice(2);
const spec = TIERS[tier];
if (!spec) {
  console.error(`usage: run-tests.mjs <${Object.keys(TIERS).join('|')}> [path ...]`);
  process.exit(2);
}
const searchRoots = roots.length ? roots : ['apps', 'libs', 'test'];
const files = searchRoots
  .flatMap((path) =>
    path.endsWith(spec.suffix) ? [path] : globSync(`${path}/**/*${spec.suffix}`, { cwd: root }),
  )
  .filter((f) => !f.includes('node_modules'))
  .filter((f) => tier !== 'unit' || !/\.(int|e2e)-spec\.ts$/.test(f))
  .sort();

mkdirSync(join(root, '.reports'), { recursive: true });
// FLEET_TEST_REPORT lets tools/test give each run its own report, so two runs never share one.
const tapFile = process.env.FLEET_TEST_REPORT
  ? resolve(process.env.FLEET_TEST_REPORT)
  : join(root, '.reports', `${tier}.tap`);
if (files.length === 0) {
  console.log(`[${tier}] no test files under ${searchRoots.join(', ')}`);
  process.exit(0);
}

const child = spawn(
  process.execPath,
  [
    '--require',
    '@swc-node/register',
    '--enable-source-maps',
    '--test',
    `--test-concurrency=${spec.concurrency}`,
    `--test-timeout=${spec.timeoutMs}`,
    // A leaked handle (a consumer a failed test never stopped) must not hang the run until CI's limit.
    '--test-force-exit',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      SWC_NODE_PROJECT: join(root, 'tsconfig.base.json'),
      FLEET_TEST_TIER: tier,
      // KafkaJS 2.2.4 schedules a timer with a negative delay on Node >= 23 (kafkajs#1751); Node
      // clamps it to 1 ms, so only the warning is wrong. Inherited by the worker processes tests spawn.
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --disable-warning=TimeoutNegativeWarning`.trim(),
    },
  },
);
child.on('exit', (code, signal) => {
  const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
  const count = (name) => Number(tap.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? 0);
  // A cancelled test (its suite's hook failed, or it outlived its parent) did not pass: it counts as failed.
  console.log(
    `[${tier}] ${count('pass')} passed, ${count('fail') + count('cancelled')} failed (${files.length} files)`,
  );
  process.exit(code ?? (signal ? 1 : 0));
});
