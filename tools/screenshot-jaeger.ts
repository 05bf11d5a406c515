/**
 * Screenshots of Jaeger's own UI (served by tools/infra) showing one chat message's trace:
 *   docs/img/jaeger-message-trace.png  the trace view: api → outbox-poller → message-router;
 *   docs/img/jaeger-search.png         the search page listing the fleet's routed chat messages.
 *
 * Needs the local fleet running (`npm start`: its smoke check sends a chat message through the api,
 * the outbox-poller and the message-router). The trace is looked up in Jaeger's query API, the
 * pages are taken by headless Chromium (`tools/infra tool chromium` installs it), and each page's
 * rendered DOM is checked for the trace before a screenshot counts: a placeholder or an empty page
 * fails the run instead of ending up in the docs.
 *
 *   npm run screenshot:jaeger [-- --trace <trace id>]
 *
 * | env | default | meaning |
 * | --- | --- | --- |
 * | `JAEGER_QUERY_URL` | `http://127.0.0.1:16686` | Jaeger's query service (API and UI) |
 * | `SCREENSHOT_BUDGET_MS` | `10000` | virtual time Chromium gives the page to load and render |
 * | `SCREENSHOT_OUT_DIR` | `docs/img` | where the PNGs go |
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { chatMessageOutgoing } from '@fleet/contracts';
import { type JaegerSpan, type JaegerTrace } from '@fleet/observability/testing';

const ROOT = resolve(__dirname, '..');
const JAEGER = (process.env.JAEGER_QUERY_URL ?? 'http://127.0.0.1:16686').replace(/\/$/, '');
const BUDGET_MS = Number(process.env.SCREENSHOT_BUDGET_MS ?? 10_000);
const OUT_DIR = resolve(ROOT, process.env.SCREENSHOT_OUT_DIR ?? 'docs/img');
const WINDOW = '1600,1000';
/** The hops of a chat message, each its own service in Jaeger. */
const HOPS = ['api', 'outbox-poller', 'message-router'] as const;
/**
 * The router's span for a message of the local fleet's own topic. Tests running against the same
 * Jaeger use namespaced topics (`e2e-1a2b3c4d.chat.message.outgoing.1`), so this picks the fleet's.
 */
const ROUTER_OPERATION = `${chatMessageOutgoing.name} process`;
const FIND_TIMEOUT_MS = 30_000;
/** How far back both the lookup and the search page look (one of the UI's lookback choices). */
const LOOKBACK = '2h';
/** The docs keep images small; a screenshot above this is worth a look before committing. */
const MAX_PNG_BYTES = 400 * 1024;

/** What the choice of a trace looks at. */
interface Candidate {
  id: string;
  startTime: number;
  spanCount: number;
  services: Set<string>;
  rootService?: string;
  rootOperation?: string;
  /** The path the root request was for (`http.route`, else `url.path`). */
  rootRoute?: string;
  operations: Set<string>;
  /** Spans whose parent is not in the trace (a broken hop, or a span not exported yet). */
  orphans: number;
  /** Spans marked as errors (a retried channel call, say). */
  errors: number;
}

function candidateOf(trace: JaegerTrace): Candidate {
  const serviceOf = (s: JaegerSpan) => trace.processes[s.processID]?.serviceName ?? '?';
  const ids = new Set(trace.spans.map((s) => s.spanID));
  const parentOf = (s: JaegerSpan) => s.references.find((r) => r.refType === 'CHILD_OF');
  const root = trace.spans.find((s) => !parentOf(s));
  // The HTTP instrumentation names the root span by method only; the path is in a tag.
  const route = ['http.route', 'url.path', 'http.target']
    .map((key) => root?.tags.find((t) => t.key === key)?.value)
    .find((value) => typeof value === 'string');
  return {
    id: trace.traceID,
    startTime: Math.min(...trace.spans.map((s) => s.startTime)),
    spanCount: trace.spans.length,
    services: new Set(trace.spans.map(serviceOf)),
    operations: new Set(trace.spans.map((s) => s.operationName)),
    rootService: root && serviceOf(root),
    rootOperation: root?.operationName,
    rootRoute: route as string | undefined,
    orphans: trace.spans.filter((s) => {
      const parent = parentOf(s);
      return parent && (parent.traceID !== trace.traceID || !ids.has(parent.spanID));
    }).length,
    errors: trace.spans.filter((s) => s.tags.some((t) => t.key === 'error' && t.value === true)).length,
  };
}

async function jaeger<T>(path: string): Promise<T> {
  const response = await fetch(`${JAEGER}${path}`);
  if (!response.ok) throw new Error(`GET ${JAEGER}${path}: HTTP ${response.status}`);
  return ((await response.json()) as { data: T }).data;
}

/**
 * A chat message's trace: started by the api's `POST /v1/conversations/:id/messages` (not, say, a
 * channel's status webhook, which also reaches the router), through every hop, every parent in it.
 */
const isMessageTrace = (c: Candidate) =>
  HOPS.every((hop) => c.services.has(hop)) &&
  c.rootService === 'api' &&
  (c.rootOperation ?? '').startsWith('POST') &&
  /^\/v1\/conversations\/[^/]+\/messages$/.test(c.rootRoute ?? '') &&
  c.operations.has(ROUTER_OPERATION) &&
  c.orphans === 0;

/** The newest chat message trace in Jaeger, polling a while (apps export spans in batches). */
async function findMessageTrace(): Promise<Candidate> {
  const deadline = Date.now() + FIND_TIMEOUT_MS;
  let seen = 0;
  for (;;) {
    const traces = await jaeger<JaegerTrace[]>(
      `/api/traces?service=message-router&lookback=${LOOKBACK}&limit=200`,
    ).catch(() => [] as JaegerTrace[]);
    seen = traces.length;
    const found = traces
      .map(candidateOf)
      .filter(isMessageTrace)
      // A message delivered at the first try reads best; the newest of those.
      .sort((a, b) => Number(a.errors > 0) - Number(b.errors > 0) || b.startTime - a.startTime)[0];
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(
        `no trace of a chat message through ${HOPS.join(', ')} with a "${ROUTER_OPERATION}" span in ` +
          `${JAEGER} (${seen} message-router traces in the last ${LOOKBACK}): is the fleet running? ` +
          '`npm start` sends one in its smoke check',
      );
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** The trace once no span arrived for two polls in a row (a child can reach Jaeger before its parent). */
async function settled(id: string): Promise<Candidate> {
  let last = candidateOf((await jaeger<JaegerTrace[]>(`/api/traces/${id}`))[0]!);
  for (let stable = 0; stable < 2;) {
    await new Promise((r) => setTimeout(r, 1_000));
    const now = candidateOf((await jaeger<JaegerTrace[]>(`/api/traces/${id}`))[0]!);
    stable = now.spanCount === last.spanCount ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/** tools/infra installs Chromium (apt) when it is missing and prints its path. */
function chromiumPath(): string {
  const out = execFileSync('bash', [join(ROOT, 'tools/infra'), 'tool', 'chromium'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.toString().trim().split('\n').pop()!;
}

/**
 * One headless Chromium run on `url`. `--virtual-time-budget` lets the single-page app fetch from
 * the query API and render before the page is captured (virtual time waits for pending requests).
 */
function chromium(binary: string, url: string, output: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), 'screenshot-jaeger-'));
  try {
    return execFileSync(
      binary,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--hide-scrollbars',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        `--window-size=${WINDOW}`,
        `--virtual-time-budget=${BUDGET_MS}`,
        ...output,
        url,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
    ).toString();
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Screenshot of `url`, after checking that the rendered page shows every one of `expected`. */
function capture(binary: string, url: string, file: string, expected: readonly string[]): void {
  const dom = chromium(binary, url, ['--dump-dom']);
  const missing = expected.filter((text) => !dom.includes(text));
  if (missing.length > 0) {
    throw new Error(`${url} rendered without ${missing.join(', ')} (raise SCREENSHOT_BUDGET_MS?)`);
  }
  chromium(binary, url, [`--screenshot=${file}`]);
  const bytes = statSync(file).size;
  const note = bytes > MAX_PNG_BYTES ? ` — above ${MAX_PNG_BYTES / 1024} KiB, too big for the docs` : '';
  console.log(`screenshot-jaeger: ${relative(ROOT, file)} (${Math.round(bytes / 1024)} KiB) ← ${url}${note}`);
}

async function main(): Promise<void> {
  const index = await fetch(`${JAEGER}/`).then((r) => r.text());
  if (!index.includes('jaeger-ui-root')) {
    throw new Error(
      `${JAEGER}/ is not the Jaeger UI (the binary's placeholder page?): restart Jaeger with the UI, ` +
        '`bash tools/infra down jaeger && bash tools/infra up jaeger`',
    );
  }
  const flag = process.argv.indexOf('--trace');
  const trace = await settled(flag > 0 ? process.argv[flag + 1]! : (await findMessageTrace()).id);
  console.log(
    `screenshot-jaeger: trace ${trace.id}: ${trace.spanCount} spans, services ${[...trace.services].join(', ')}, ` +
      `root ${trace.rootService} ${trace.rootOperation} ${trace.rootRoute}`,
  );

  const binary = chromiumPath();
  mkdirSync(OUT_DIR, { recursive: true });
  // The trace view names each hop's service in its span tree; the search list shows short ids.
  capture(binary, `${JAEGER}/trace/${trace.id}`, join(OUT_DIR, 'jaeger-message-trace.png'), [
    ...HOPS,
    trace.id.slice(0, 7),
  ]);
  capture(
    binary,
    `${JAEGER}/search?${new URLSearchParams({
      service: 'message-router',
      operation: ROUTER_OPERATION,
      lookback: LOOKBACK,
      limit: '20',
    })}`,
    join(OUT_DIR, 'jaeger-search.png'),
    [trace.id.slice(0, 7), ...HOPS],
  );
}

main().catch((error: unknown) => {
  console.error(`screenshot-jaeger: ${(error as Error).message}`);
  process.exit(1);
});
