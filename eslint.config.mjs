// Lint rules for the whole workspace. The module-boundary rules are the architecture
// written as code: see docs/adr/0001-workspace-shape.md.
import nx from '@nx/eslint-plugin';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Third-party clients and the one lib that may import each (STYLE.md: "each client, one lib"). */
const OWNED_CLIENTS = {
  'client:kafkajs': ['kafkajs'],
  'client:typeorm': ['typeorm', 'pg', 'pg-*'],
  'client:ioredis': ['ioredis'],
  'client:minio': ['minio'],
  'client:opossum': ['opossum'],
  'client:otel-sdk': [
    '@opentelemetry/sdk-*',
    '@opentelemetry/exporter-*',
    '@opentelemetry/resources',
    'pino',
  ],
};
const allOwned = Object.values(OWNED_CLIENTS).flat();
const bannedExcept = (tag) => allOwned.filter((p) => !(OWNED_CLIENTS[tag] ?? []).includes(p));

/** The architecture's layers and client ownership (`@nx/enforce-module-boundaries` options). */
const BOUNDARIES = {
  enforceBuildableLibDependency: false,
  allow: [],
  banTransitiveDependencies: true,
  checkDynamicDependenciesExceptions: [],
  depConstraints: [
    // Layers: apps compose runtime, data and contracts; libs never reach up.
    {
      sourceTag: 'type:app',
      onlyDependOnLibsWithTags: ['type:runtime', 'type:data', 'type:contracts', 'type:util'],
    },
    {
      sourceTag: 'type:e2e',
      onlyDependOnLibsWithTags: ['type:runtime', 'type:data', 'type:contracts', 'type:util'],
    },
    {
      sourceTag: 'type:runtime',
      onlyDependOnLibsWithTags: ['type:runtime', 'type:data', 'type:contracts', 'type:util'],
    },
    {
      sourceTag: 'type:data',
      onlyDependOnLibsWithTags: ['type:data', 'type:contracts', 'type:util'],
    },
    {
      sourceTag: 'type:contracts',
      onlyDependOnLibsWithTags: ['type:contracts'],
      allowedExternalImports: ['zod'],
    },
    {
      sourceTag: 'type:util',
      onlyDependOnLibsWithTags: ['type:util'],
      allowedExternalImports: ['zod'],
    },
    // Client ownership: every project carries exactly one client:* tag.
    ...Object.keys(OWNED_CLIENTS).map((tag) => ({
      sourceTag: tag,
      bannedExternalImports: bannedExcept(tag),
    })),
    { sourceTag: 'client:none', bannedExternalImports: allOwned },
  ],
};

export default tseslint.config(
  { ignores: ['**/node_modules', '**/dist', '.nx', '.local', '.reports', 'tools/**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'no-console': 'error',
      '@nx/enforce-module-boundaries': ['error', BOUNDARIES],
    },
  },
  {
    // The observability tests read the dashboards and rules from their source of truth, tools/.
    files: ['test/observability/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          ...BOUNDARIES,
          allow: [
            '../../tools/observability/alerts',
            '../../tools/observability/dashboards',
            '../../tools/observability/promql',
            '../../tools/render-observability',
          ],
        },
      ],
    },
  },
  {
    // The fault campaign's short variant runs the campaign of tools/faults.
    files: ['test/faults/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { ...BOUNDARIES, allow: ['../../tools/faults/campaign'] }],
    },
  },
  {
    // The deployment tests check the Helm chart's env against each app's own config schema.
    files: ['test/deploy/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          ...BOUNDARIES,
          allow: [
            ...[
              'api',
              'file-merge',
              'generation',
              'exporter',
              'pool-filler',
              'message-router',
              'outbox-poller',
              'redis-backfill',
              'upload-gc',
            ].map((app) => `../../apps/${app}/src/config`),
            '../../tools/render-k8s',
          ],
        },
      ],
    },
  },
  {
    // The api's ops console: plain ES modules run by the browser as they are (no build step).
    files: ['apps/api/src/ops-console/public/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'sessionStorage',
          'fetch',
          'URL',
          'URLSearchParams',
          'atob',
          'addEventListener',
          'removeEventListener',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'console',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    // Tests and tools may print; the CLI entry points of tools are scripts.
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'tools/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
