/**
 * Headless Chromium for the console tests: Debian's package (`tools/infra tool chromium` installs
 * it and prints its path, as tools/screenshot-jaeger.ts uses it) driven by playwright-core, which
 * downloads no browser of its own.
 */
import { execFileSync } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { freePort, WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The system Chromium, or a setup error saying how to get it. */
export function chromiumPath(): string {
  try {
    const out = execFileSync('bash', [join(WORKSPACE_ROOT, 'tools/infra'), 'tool', 'chromium'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return out.trim().split('\n').pop()!;
  } catch {
    throw new Error('setup: chromium is missing and could not be installed (bash tools/infra tool chromium)');
  }
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}

/**
 * What went wrong inside the page: uncaught errors and Content-Security-Policy refusals (a script
 * or style the console's policy blocks would break it silently otherwise). Refused API calls (the
 * 403 the login test provokes) are the page's business, not listed.
 */
export function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (/Content[- ]Security[- ]Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  return problems;
}

/**
 * A pass-through to a server whose address is known only later: the api must be given its
 * `PROMETHEUS_URL` at boot, and the test's Prometheus can only be started once it knows the apps'
 * ports. Requests before `target` is set answer 503, as an unreachable Prometheus would.
 */
export async function laterProxy(): Promise<{ url: string; target?: string; stop(): Promise<void> }> {
  const port = await freePort();
  const proxy: { url: string; target?: string; stop(): Promise<void> } = {
    url: `http://127.0.0.1:${port}`,
    target: undefined,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((incoming, outgoing) => {
    if (!proxy.target) {
      outgoing.writeHead(503).end();
      return;
    }
    const upstream = request(
      new URL(incoming.url ?? '/', proxy.target),
      { method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return proxy;
}
