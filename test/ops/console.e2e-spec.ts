/**
 * Issue 19's ops console in a real browser (headless Debian Chromium through playwright-core) on
 * the fleet as it ships: the api, the outbox poller and a message-router (child processes, real
 * Kafka, PostgreSQL, Redis), and a real Prometheus scraping them every second. A chat message the
 * channel refuses is dead-lettered by the router's consumer group; an operator signs in with an
 * admin token, filters the topic's dead letters down to it, redrives it (dry run first), watches
 * its status change to REDRIVEN while the router delivers it, and opens its event's life. The
 * screenshots in docs/img/ops-console-*.png are taken on the way, each after the DOM showed what it
 * is meant to show.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chatMessageOutgoing, inNamespace } from '@fleet/contracts';
import { waitFor } from '@fleet/kafka/testing';
import { WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { type Browser, type Page } from 'playwright-core';
import {
  call,
  createConversations,
  startChatFleet,
  type ChatConversation,
  type ChatFleet,
} from '../chat/harness';
import { TestPrometheus } from '../observability/prometheus';
import { laterProxy, launchBrowser, pageProblems } from './browser';

const SHOTS = join(WORKSPACE_ROOT, 'docs/img');
/** The docs keep images small; a screenshot above this is worth a look before committing. */
const MAX_PNG_BYTES = 400 * 1024;
const VIEWPORT = { width: 1440, height: 900 };

describe('ops console in a browser', () => {
  let fleet: ChatFleet;
  let prometheus: TestPrometheus;
  let proxy: Awaited<ReturnType<typeof laterProxy>>;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let adminToken: string;
  let topic: string;
  let refused: ChatConversation;
  let others: ChatConversation[];
  let messageId: string;

  const send = async (conversation: ChatConversation, text: string) => {
    const sent = await call<{ id: string }>(
      `${fleet.apiUrl}/v1/conversations/${conversation.id}/messages`,
      conversation.token,
      { method: 'POST', headers: { 'idempotency-key': randomUUID() }, body: { text } },
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    return sent.body.id;
  };

  /** A screenshot of the page as it is, once `ready` (a DOM check) passed. */
  const shoot = async (name: string, ready: () => Promise<void>) => {
    await ready();
    mkdirSync(SHOTS, { recursive: true });
    const file = join(SHOTS, `ops-console-${name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    const bytes = statSync(file).size;
    console.log(`screenshot ${relative(WORKSPACE_ROOT, file)} (${Math.round(bytes / 1024)} KiB)`);
    assert.ok(bytes < MAX_PNG_BYTES, `${name}: ${bytes} bytes, too big for the docs`);
  };

  before(async () => {
    proxy = await laterProxy();
    fleet = await startChatFleet({ routers: 1, env: { PROMETHEUS_URL: proxy.url } });
    prometheus = await TestPrometheus.start(
      [
        { job: 'api', port: fleet.api.port },
        { job: 'outbox-poller', port: fleet.poller.port },
        { job: 'message-router', port: fleet.routers[0]!.port },
      ],
      [],
    );
    proxy.target = prometheus.url;
    // Scraping before anything happens, so the dead letter to come is an increase Prometheus sees
    // (its service discovery hands out the targets only after a few seconds).
    await waitFor('Prometheus scraping the three apps', async () => {
      const targets = (await prometheus.targets()).filter((t) => t.job !== 'pushgateway');
      return targets.length === 3 && targets.every((t) => t.health === 'up');
    });
    adminToken = await fleet.token('ops-e2e', { scope: 'fleet:admin' });
    topic = inNamespace(chatMessageOutgoing, fleet.namespace).name;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: VIEWPORT });
    problems = pageProblems(page);
  });

  after(async () => {
    await browser?.close();
    await fleet?.stop();
    await prometheus?.stop();
    await proxy?.stop();
  });

  test('a refused message is dead-lettered by the router and indexed; delivered ones flow around it', async () => {
    const conversations = await createConversations(fleet, {
      count: 3,
      userPrefix: `ops-${randomUUID().slice(0, 8)}`,
      phonePrefix: '1558',
    });
    refused = conversations[0]!;
    const text = `refused ${randomUUID()}`;
    // The channel refuses the first attempt only (400: no retry will fix it → the DLQ at once); the
    // redrive's attempt is then accepted.
    fleet.fake.script({ match: (c) => c.text === text, responses: [{ status: 400 }] });
    messageId = await send(refused, text);
    others = conversations.slice(1);
    for (const other of others) await send(other, `fine ${randomUUID()}`);

    const indexed = await waitFor(
      'the dead letter in the index',
      async () => {
        const page = await call<{ items: Array<{ id: string; status: string; consumerGroup: string }> }>(
          `${fleet.apiUrl}/v1/admin/dlq?topic=${encodeURIComponent(topic)}&eventId=${messageId}`,
          adminToken,
        );
        return page.body.items?.[0];
      },
      60_000,
    );
    assert.equal(indexed.status, 'DEAD');
    assert.equal(indexed.consumerGroup, `${fleet.namespace}.message-router`);
  });

  test('sign-in: a token without the admin scope is told so; an admin token opens the console', async () => {
    await page.goto(`${fleet.apiUrl}/ops/`);
    await page.getByTestId('login-token').fill(await fleet.token('not-an-admin'));
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor();
    assert.match(await page.getByTestId('login-error').innerText(), /lacks the fleet:admin scope/);

    await page.getByTestId('login-token').fill(adminToken);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('signed-in-as').waitFor();
    assert.equal(await page.getByTestId('signed-in-as').innerText(), 'ops-e2e');
  });

  test('the DLQ filtered to the record; one redrive after a dry run of 1; its status turns REDRIVEN', async () => {
    await page.getByTestId('nav-dlq').click();
    await page.locator(`[data-testid="dlq-topic"][data-topic="${topic}"]`).click();
    await page.getByTestId('dlq-filter-key').fill(refused.id);
    await page.getByTestId('dlq-filter-status').selectOption('DEAD');
    await page.getByTestId('dlq-filter-apply').click();
    const row = page.locator(`[data-testid="dlq-row"][data-event-id="${messageId}"]`);
    await row.waitFor();
    assert.equal(await page.getByTestId('dlq-row').count(), 1, 'the filter leaves the one record');
    assert.equal(await row.getByTestId('dlq-status').innerText(), 'DEAD');
    assert.match(page.url(), new RegExp(`key=${refused.id}`), 'the filter is in the URL');

    await row.getByTestId('dlq-redrive-one').click();
    await page.getByTestId('redrive-dry-run-count').waitFor();
    assert.equal(await page.getByTestId('redrive-dry-run-count').innerText(), '1');
    assert.match(await page.getByTestId('redrive-by-group').innerText(), /message-router: 1/);
    await shoot('redrive', async () => {
      assert.equal(await page.getByTestId('redrive-confirm').isEnabled(), true);
    });
    await page.getByTestId('redrive-confirm').click();
    await waitFor(
      'the redrive to finish',
      async () =>
        (await page
          .getByTestId('redrive-status')
          .innerText()
          .catch(() => '')) === 'COMPLETED',
      30_000,
    );
    assert.match(
      await page.getByTestId('redrive-counts').innerText(),
      /1 redriven, 0 skipped, 0 failed of 1/,
    );
    await page.getByTestId('redrive-close').click();

    // Any status: the record stays listed while it changes.
    await page.getByTestId('dlq-filter-status').selectOption('');
    await page.getByTestId('dlq-filter-apply').click();
    await waitFor(
      'the record REDRIVEN',
      async () => {
        await page.getByTestId('dlq-refresh').click();
        return (
          (await row
            .getByTestId('dlq-status')
            .innerText()
            .catch(() => '')) === 'REDRIVEN'
        );
      },
      60_000,
    );
    await shoot('dlq', async () => {
      assert.equal(await row.getByTestId('dlq-status').innerText(), 'REDRIVEN');
      assert.match(await page.getByTestId('dlq-total').innerText(), /1 matching/);
    });

    // For real: the index says where the redriven copy went (the group's own retry path).
    const record = await call<{ status: string; redriveId: string | null }>(
      `${fleet.apiUrl}/v1/admin/dlq/${await row.getAttribute('data-id')}`,
      adminToken,
    );
    assert.equal(record.body.status, 'REDRIVEN');
    assert.ok(record.body.redriveId, 'the redrive that sent it');
  });

  test("the event's life: outbox, publish, the dead letter, the redrive, then handled by message-router", async () => {
    await page
      .locator(`[data-testid="dlq-row"][data-event-id="${messageId}"]`)
      .getByTestId('dlq-event-link')
      .click();
    await page.getByTestId('event-life').waitFor();
    const group = `${fleet.namespace}.message-router`;
    await waitFor(
      'the group handled it',
      async () => {
        const outcome = page
          .locator(`[data-testid="event-group"][data-group="${group}"]`)
          .getByTestId('event-group-outcome');
        if ((await outcome.innerText().catch(() => '')) === 'handled') return true;
        await page.reload();
        await page.getByTestId('event-life').waitFor();
        return false;
      },
      30_000,
    );
    const kinds = await page
      .getByTestId('event-step')
      .evaluateAll((steps) => steps.map((s) => s.getAttribute('data-kind')));
    const order = ['outbox.created', 'outbox.published', 'dead-lettered', 'redriven', 'handled'];
    const at = order.map((kind) => kinds.indexOf(kind));
    assert.ok(
      at.every((i) => i >= 0),
      `every step present: ${kinds.join(', ')}`,
    );
    assert.deepEqual(
      [...at].sort((a, b) => a - b),
      at,
      `in order: ${kinds.join(', ')}`,
    );
    // Handled for real: the router called the channel again for the redrive (refused, then
    // accepted), and the api let the message out of FAILED.
    const calls = fleet.fake.callsFor('whatsapp').filter((c) => c.messageId === messageId);
    assert.deepEqual(
      calls.map((c) => c.status),
      [400, 200],
    );
    await waitFor(
      'the message DELIVERED in the api',
      async () => {
        const messages = await call<{ items: Array<{ id: string; status: string }> }>(
          `${fleet.apiUrl}/v1/conversations/${refused.id}/messages?limit=10`,
          refused.token,
        );
        return messages.body.items.find((m) => m.id === messageId)?.status === 'DELIVERED';
      },
      30_000,
    );
    await page.reload();
    await page.getByTestId('event-life').waitFor();
    await shoot('event', async () => {
      assert.match(await page.getByTestId('event-life').innerText(), new RegExp(messageId));
      assert.match(await page.getByTestId('event-life').innerText(), /"status": "DELIVERED"/);
    });
  });

  test('queues, charts from Prometheus, a breaker forced open and reset, the audit log — and no page error or CSP refusal anywhere', async () => {
    await page.getByTestId('nav-queues').click();
    await page
      .locator(`[data-testid="queues-lag-row"][data-group="${fleet.namespace}.message-router"]`)
      .first()
      .waitFor();

    // Some traffic for the rates to show (each message is processed by the router and by the
    // api's status consumer).
    for (let round = 0; round < 3; round++) {
      for (const other of others) await send(other, `more ${randomUUID()}`);
    }
    // A second refusal: the router's dead-letter counter for this topic and reason was created at 1
    // by the first, which no rate() can see; going to 2 it can.
    const text = `refused again ${randomUUID()}`;
    fleet.fake.script({ match: (c) => c.text === text, responses: [{ status: 400 }] });
    await send(others[0]!, text);
    await page.goto(`${fleet.apiUrl}/ops/#/charts?range=15m`);
    await waitFor(
      'processed and dead-lettered charts above zero',
      async () => {
        const max = async (name: string) =>
          Number(
            (await page.locator(`[data-testid="chart"][data-name="${name}"]`).getAttribute('data-max')) || 0,
          );
        if ((await max('processed')) > 0 && (await max('dead-lettered')) > 0) return true;
        await page.reload();
        return false;
      },
      60_000,
    );
    await shoot('charts', async () => {
      assert.ok((await page.locator('[data-testid="chart"] canvas').count()) >= 2, 'uPlot drew the charts');
      assert.equal(await page.getByTestId('chart-error').count(), 0);
    });

    // A breaker forced open on every replica that has it, then reset; each seen per replica.
    await page.getByTestId('nav-breakers').click();
    const breaker = page.locator('[data-testid="breaker"][data-name="kafka-producer"]');
    await breaker.waitFor();
    const states = () => breaker.getByTestId('breaker-state').allInnerTexts();
    assert.ok((await states()).length >= 3, 'the api, the poller and the router each report theirs');
    await breaker.getByTestId('breaker-reason').fill('e2e: console force-open');
    await breaker.getByTestId('breaker-open').click();
    await waitFor('open on every replica', async () => (await states()).every((s) => s === 'open'), 10_000);
    await shoot('breakers', async () => {
      assert.ok((await states()).every((s) => s === 'open'));
      assert.match(await breaker.innerText(), /e2e: console force-open/);
    });
    await breaker.getByTestId('breaker-reset').click();
    await waitFor('closed again', async () => (await states()).every((s) => s === 'closed'), 10_000);

    await page.getByTestId('nav-audit').click();
    await page.locator('[data-testid="audit-row"][data-action="dlq.redrive"]').first().waitFor();
    await page.locator('[data-testid="audit-row"][data-action="breaker.open"]').first().waitFor();
    assert.match(
      await page.locator('[data-testid="audit-row"][data-action="dlq.redrive"]').first().innerText(),
      /ops-e2e/,
    );
    assert.deepEqual(problems, []);
  });
});
