// One dead letter: its failure (group, reason, error, attempts), where it sits in Kafka, its
// payload (decoded JSON, else the raw text) and headers, and links to its event's life and trace.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Badge, ErrorNote, Json, html, useLoad, when } from '../ui.js';
import { DiscardDialog } from './discard-dialog.js';
import { RedriveDialog } from './redrive-dialog.js';

function Meta({ d }) {
  const rows = [
    ['topic', d.topic],
    ['consumer group', d.consumerGroup],
    ['reason', d.reason],
    ['error code', d.errorCode],
    ['error', d.errorMessage],
    ['attempts', d.attempts],
    ['first failure', when(d.firstFailureAt)],
    ['dead-lettered', when(d.failedAt)],
    ['redrives before', d.redriveCount],
    ['key', d.key ?? '—'],
    ['event id', d.eventId ?? '—'],
    ['event type', d.eventType ?? '—'],
    ['original', `partition ${d.originalPartition}, offset ${d.originalOffset}`],
    ['DLQ record', `${d.dlqTopic} partition ${d.dlqPartition}, offset ${d.dlqOffset}`],
    ['status since', `${when(d.statusAt)}${d.statusReason ? ` — ${d.statusReason}` : ''}`],
    ['redrive', d.redriveId ?? '—'],
    ['trace', d.traceId ?? '—'],
  ];
  return html`<dl class="meta" data-testid="dl-meta">
    ${rows.map(
      ([name, value]) =>
        html`<dt>${name}</dt>
          <dd>${value}</dd>`,
    )}
  </dl>`;
}

export function DeadLetterDetail({ id }) {
  const record = useLoad(() => api(`/v1/admin/dlq/${encodeURIComponent(id)}`), [id], 5_000);
  const [dialog, setDialog] = useState(null);
  const d = record.data;
  const close = (changed) => {
    setDialog(null);
    if (changed) void record.reload();
  };
  return html`
    <section class="detail" data-testid="dl-detail">
      <p><a href=${d ? `#/dlq?topic=${encodeURIComponent(d.topic)}` : '#/dlq'}>← dead letters</a></p>
      <${ErrorNote} error=${record.error} testid="dl-error" />
      ${
        d &&
        html`
          <h2>
            Dead letter <span class="mono">${d.id}</span> <${Badge} value=${d.status} testid="dl-status" />
          </h2>
          <div class="toolbar">
            ${
              d.eventId &&
              html`<a
                class="button"
                href=${`#/events/${encodeURIComponent(d.eventId)}`}
                data-testid="dl-event-link"
                >Event life</a
              >`
            }
            ${
              d.jaegerUrl &&
              html`<a
                class="button"
                href=${d.jaegerUrl}
                target="_blank"
                rel="noopener"
                data-testid="dl-jaeger"
                >Trace</a
              >`
            }
            ${
              d.status === 'DEAD' &&
              html`<button data-testid="dl-redrive" onClick=${() => setDialog('redrive')}>Redrive</button>
                <button class="secondary" data-testid="dl-discard" onClick=${() => setDialog('discard')}>
                  Discard
                </button>`
            }
          </div>
          <div class="columns">
            <div>
              <h3>Failure</h3>
              <${Meta} d=${d} />
            </div>
            <div>
              <h3>Payload</h3>
              ${
                d.payload !== null
                  ? html`<${Json} value=${d.payload} testid="dl-payload" />`
                  : html`<pre class="json" data-testid="dl-payload">${d.valueText ?? '(empty value)'}</pre>`
              }
              <h3>Headers</h3>
              <table class="grid" data-testid="dl-headers">
                <tbody>
                  ${Object.entries(d.headers).map(
                    ([name, value]) =>
                      html`<tr>
                        <td class="mono">${name}</td>
                        <td class="mono wrap">${value}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>
          </div>
        `
      }
      ${dialog === 'redrive' && html`<${RedriveDialog} selection=${{ ids: [id] }} onClose=${close} />`}
      ${dialog === 'discard' && html`<${DiscardDialog} selection=${{ ids: [id] }} count=${1} onClose=${close} />`}
    </section>
  `;
}
