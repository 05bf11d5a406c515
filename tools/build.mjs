#!/usr/bin/env node
// Bundles one service entry point into a single CommonJS file.
//
//   node tools/build.mjs apps/<name>            → dist/apps/<name>/main.js (entry apps/<name>/src/main.ts),
//                                                 plus migrate.js / admin.js / verify.js / fleetctl.js when the app
//                                                 has those entries (src/<entry>.ts or src/<entry>/main.ts)
//   node tools/build.mjs <entry.ts> <out.js>
//
// Static files an entry serves (the api's ops console) are copied beside its bundle, in both forms.
//
// Our own code (app + libs, through tsconfig paths) goes into the bundle; node_modules stay
// external and are loaded with a real require(). That is what keeps OpenTelemetry's
// instrumentations working: they patch modules as they are required, which a bundled copy never is.
// TypeScript goes through SWC rather than esbuild because NestJS needs decorator metadata
// (`emitDecoratorMetadata`), which esbuild does not emit.
//
// Each entry is two files: `<name>.bundle.js` (+ its map) and `<name>.js`, a two-line launcher that
// turns on source maps for our code only, then requires the bundle. `--enable-source-maps` would
// also load the maps every OpenTelemetry and TypeORM package ships: ~22 MB of heap and ~50 MB of
// RSS per process (measured: the same requires with and without it), for stack frames inside
// node_modules nobody maps back anyway.
import { build } from 'esbuild';
import { transformFile } from '@swc/core';
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const [target, explicitOut] = process.argv.slice(2);
if (!target) {
  console.error('usage: build.mjs apps/<name> | <entry.ts> <out.js>');
  process.exit(2);
}
/**
 * Entry points an app may have besides main.ts: its migrations command, its operator CLI, a
 * verifier, the fleet's admin CLI (a folder of its own: `src/fleetctl/main.ts`).
 */
const EXTRA_ENTRIES = ['migrate', 'admin', 'verify', 'fleetctl'];
/** An entry's file: `src/<name>.ts`, else `src/<name>/main.ts`. */
const entryFile = (app, name) => {
  const file = join(root, app, 'src', `${name}.ts`);
  return existsSync(file) || name === 'main' ? file : join(root, app, 'src', name, 'main.ts');
};
/** Folders of static files copied beside an entry's bundle: [source, folder name beside the bundle]. */
const ASSETS = {
  'apps/api/src/main.ts': [['apps/api/src/ops-console/public', 'ops-console']],
};
const builds = target.endsWith('.ts')
  ? [{ entry: resolve(target), outfile: resolve(explicitOut ?? target.replace(/\.ts$/, '.js')) }]
  : ['main', ...EXTRA_ENTRIES]
      .map((name) => ({ entry: entryFile(target, name), outfile: join(root, 'dist', target, `${name}.js`) }))
      .filter(({ entry }, index) => index === 0 || existsSync(entry));
if (!existsSync(builds[0].entry)) {
  console.error(`build: no entry point at ${builds[0].entry}`);
  process.exit(2);
}

const swcDecorators = {
  name: 'swc-decorators',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const { code, map } = await transformFile(args.path, {
        sourceMaps: true,
        jsc: {
          target: 'es2023',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          keepClassNames: true,
        },
        module: { type: 'es6' },
      });
      const inlineMap = `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(map ?? '').toString('base64')}`;
      return { contents: code + inlineMap, loader: 'js' };
    });
  },
};

const launcher = (bundle) => `'use strict';
// Source maps for this app's own bundle, not for node_modules (see tools/build.mjs).
require('node:module').setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });
require('./${bundle}');
`;

for (const { entry, outfile } of builds) {
  const started = Date.now();
  const bundle = outfile.replace(/\.js$/, '.bundle.js');
  await build({
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    packages: 'external',
    tsconfig: join(root, 'tsconfig.base.json'),
    sourcemap: true,
    keepNames: true,
    logLevel: 'warning',
    plugins: [swcDecorators],
  });
  writeFileSync(outfile, launcher(basename(bundle)));
  rmSync(`${outfile}.map`, { force: true }); // an older build's, when the bundle was <name>.js
  for (const [from, to] of ASSETS[relative(root, entry)] ?? []) {
    const dest = join(dirname(outfile), to);
    // Replaced, not merged: a file deleted from the sources must not linger in dist.
    rmSync(dest, { recursive: true, force: true });
    cpSync(join(root, from), dest, { recursive: true });
  }
  console.log(`built ${outfile.replace(root + '/', '')} in ${Date.now() - started} ms`);
}
