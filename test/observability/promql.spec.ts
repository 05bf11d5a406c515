import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { familyOf, partsOf } from '../../tools/observability/promql';

describe('reading metric and label names out of PromQL', () => {
  test('functions, keywords, ranges and strings are not metrics; grouping and matcher labels are labels', () => {
    assert.deepEqual(
      partsOf(
        'histogram_quantile(0.99, sum by (le, topic) (rate(kafka_handler_duration_seconds_bucket{group=~"a.b(\\\\.retry)?"}[$__rate_interval])))',
      ),
      { metrics: ['kafka_handler_duration_seconds_bucket'], labels: ['group', 'le', 'topic'] },
    );
    assert.deepEqual(
      partsOf('sum(kafka_consumer_lag{topic=~"x"}) > 0 and on () sum(llm_requests_in_flight) == 0'),
      { metrics: ['kafka_consumer_lag', 'llm_requests_in_flight'], labels: ['topic'] },
    );
    assert.deepEqual(partsOf('up == 0'), { metrics: ['up'], labels: [] });
  });

  test('a histogram series names its family', () => {
    assert.equal(familyOf('file_merge_duration_seconds_bucket'), 'file_merge_duration_seconds');
    assert.equal(familyOf('outbox_published_total'), 'outbox_published_total');
  });
});
