import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type FastifyAdapter } from '@nestjs/platform-fastify';
import { type FastifyReply } from 'fastify';
import { contentSecurityPolicy } from './console-csp';

/** Where the console is served. */
export const CONSOLE_PATH = '/ops/';

/**
 * The console's own files: copied beside the api's bundle by tools/build.mjs (`ops-console/`), or
 * this folder's `public/` when the api runs from source.
 */
export function consoleRoot(): string {
  const root = [join(__dirname, 'ops-console'), join(__dirname, 'public')].find((dir) =>
    existsSync(join(dir, 'index.html')),
  );
  if (!root)
    throw new Error(
      `ops console assets not found beside ${__dirname} (was the api built with tools/build.mjs?)`,
    );
  return root;
}

/**
 * The UI libraries the console imports, served from node_modules as their packages ship them (ESM,
 * no build step): only the files named here, each package under its own prefix (the console's
 * import map points at them).
 */
const VENDOR: ReadonlyArray<{ prefix: string; dir: string; files: readonly string[] }> = [
  { prefix: 'preact', dir: dirname(require.resolve('preact')), files: ['preact.mjs'] },
  { prefix: 'preact-hooks', dir: dirname(require.resolve('preact/hooks')), files: ['hooks.mjs'] },
  { prefix: 'htm', dir: dirname(require.resolve('htm')), files: ['htm.mjs'] },
  { prefix: 'uplot', dir: dirname(require.resolve('uplot')), files: ['uPlot.esm.js', 'uPlot.min.css'] },
];

/**
 * Serves the ops console at `/ops/` with @fastify/static (registered on the api's Fastify before it
 * listens). The page itself is public; everything it shows comes from the admin routes, which
 * need a `fleet:admin` token.
 */
@Injectable()
export class ConsoleAssets implements OnModuleInit {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter as unknown as FastifyAdapter;
    const root = consoleRoot();
    const csp = contentSecurityPolicy(readFileSync(join(root, 'index.html'), 'utf8'));
    // @fastify/static 10 passes the Fastify reply (Nest's copy of its types still says a raw response).
    const setHeaders = (reply: unknown) =>
      void (reply as FastifyReply)
        .header('content-security-policy', csp)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer');
    // Swagger's UI registers @fastify/static too: only the first registration may decorate the reply.
    adapter.useStaticAssets({
      root,
      // Without the trailing slash, so `/ops` gets a redirect to `/ops/` (relative URLs need the slash).
      prefix: CONSOLE_PATH.replace(/\/$/, ''),
      redirect: true,
      index: ['index.html'],
      decorateReply: false,
      setHeaders,
    });
    for (const { prefix, dir, files } of VENDOR) {
      adapter.useStaticAssets({
        root: dir,
        prefix: `${CONSOLE_PATH}vendor/${prefix}/`,
        decorateReply: false,
        index: false,
        allowedPath: (path: string) => files.includes(path.replace(/^\//, '')),
        setHeaders,
      });
    }
  }
}
