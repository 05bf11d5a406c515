import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHART_RANGES, CHARTS, chartNamed, legendOf, queryContext } from './charts';
import { fleetLagScope } from './fleet-lag-scope';
import { alignSeries } from './prometheus';
import { contentSecurityPolicy } from './console-csp';

describe('charts', () => {
  test('names are unique and each chart has at least one query', () => {
    assert.equal(new Set(CHARTS.map((c) => c.name)).size, CHARTS.length);
    for (const chart of CHARTS) assert.ok(chart.queries.length > 0, chart.name);
    assert.equal(chartNamed('processed')?.title, 'Messages processed per second');
    assert.equal(chartNamed('../etc'), undefined);
  });

  test('each range is drawn at ~60 points; the rate window is 4 steps and never under a minute', () => {
    for (const [range, { seconds, stepSeconds }] of Object.entries(CHART_RANGES)) {
      assert.equal(seconds / stepSeconds, 60, range);
    }
    assert.equal(queryContext('15m', undefined).window, '60s');
    assert.equal(queryContext('6h', undefined).window, '1440s');
  });

  test("in a namespace, per-topic queries keep to the namespace's topics (a regex dot, escaped for PromQL)", () => {
    const processed = chartNamed('processed')!.queries[0]!;
    assert.equal(
      processed.expr(queryContext('1h', 'e2e-1a2b')),
      'sum by (topic) (rate(kafka_messages_processed_total{topic=~"e2e-1a2b\\\\..+"}[240s]))',
    );
    assert.equal(
      processed.expr(queryContext('1h', undefined)),
      'sum by (topic) (rate(kafka_messages_processed_total[240s]))',
    );
    assert.equal(
      chartNamed('consumer-lag')!.queries[0]!.expr(queryContext('15m', 'ns')),
      'sum by (group, topic) (kafka_consumer_lag{topic=~"ns\\\\..+"})',
    );
  });

  test('legends fill {{label}} from the series, missing labels empty', () => {
    assert.equal(legendOf('{{group}} {{ topic }}', { group: 'g', topic: 't' }), 'g t');
    assert.equal(legendOf('{{breaker}}', {}), '');
    assert.equal(legendOf('pending', { x: '1' }), 'pending');
  });
});

describe('alignSeries', () => {
  test('samples land on the shared axis; missing points, NaN and Inf are null; off-axis samples dropped', () => {
    const { timestamps, values } = alignSeries(
      [
        {
          labels: {},
          samples: [
            [100, 1],
            [130, 3],
          ],
        },
        {
          labels: {},
          samples: [
            [110, Number.NaN],
            [120, Number.POSITIVE_INFINITY],
            [125, 9],
            [130, 0],
          ],
        },
      ],
      100,
      130,
      10,
    );
    assert.deepEqual(timestamps, [100, 110, 120, 130]);
    assert.deepEqual(values, [
      [1, null, null, 3],
      [null, null, null, 0],
    ]);
  });
});

describe('fleetLagScope', () => {
  test("a namespace's groups by prefix; the fleet's topics with their .retry and .dlq companions", () => {
    const scope = fleetLagScope('e2e-1a2b');
    assert.equal(scope.groups('e2e-1a2b.message-router'), true);
    assert.equal(scope.groups('e2e-9999.message-router'), false);
    assert.equal(scope.topics('e2e-1a2b.chat.message.outgoing.1'), true);
    assert.equal(scope.topics('e2e-1a2b.chat.message.outgoing.1.retry'), true);
    assert.equal(scope.topics('e2e-1a2b.chat.message.outgoing.1.dlq'), true);
    assert.equal(scope.topics('chat.message.outgoing.1'), false);
    assert.equal(scope.topics('test.something.1'), false);
  });

  test('without a namespace every group is asked and the un-namespaced topics decide', () => {
    const scope = fleetLagScope(undefined);
    assert.equal(scope.groups('anything'), true);
    assert.equal(scope.topics('chat.message.status.1'), true);
    assert.equal(scope.topics('e2e-1a2b.chat.message.status.1'), false);
  });
});

describe('contentSecurityPolicy', () => {
  test('allows the inline import map by its hash and nothing else inline', () => {
    const csp = contentSecurityPolicy('<script type="importmap">{"imports":{}}</script>');
    // sha256 of `{"imports":{}}`, base64
    assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/]+=*'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.notEqual(
      csp,
      contentSecurityPolicy('<script type="importmap">{"imports":{"x":"./x.js"}}</script>'),
    );
  });

  test('a page without an import map is refused at boot', () => {
    assert.throws(() => contentSecurityPolicy('<html></html>'), /no import map/);
  });
});
