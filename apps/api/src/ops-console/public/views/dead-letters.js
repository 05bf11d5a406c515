// Dead letters: the topics that have any, then one topic's records under the filters in the URL
// (group, reason, key, event id, time range, status), with redrive and discard of one record, of
// the selection or of everything the filter matches.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Badge, ErrorNote, go, html, useLoad, when } from '../ui.js';
import { DeadLetterFilters, redriveFilterOf } from './dead-letter-filters.js';
import { DiscardDialog } from './discard-dialog.js';
import { RedriveDialog } from './redrive-dialog.js';

const PAGE_SIZE = 50;
const REFRESH_MS = 10_000;

function Topics({ current, version }) {
  // `version` moves when the records view changed something (a redrive, a discard, a refresh).
  const topics = useLoad(() => api('/v1/admin/dlq/topics'), [version], REFRESH_MS);
  return html`
    <section class="topics">
      <h2>Topics</h2>
      <${ErrorNote} error=${topics.error} testid="dlq-topics-error" />
      ${topics.data?.topics.length === 0 && html`<p class="muted" data-testid="dlq-no-topics">No dead letters anywhere.</p>`}
      <ul>
        ${(topics.data?.topics ?? []).map(
          (t) =>
            html`<li>
              <button
                class=${`topic ${t.topic === current ? 'active' : ''}`}
                data-testid="dlq-topic"
                data-topic=${t.topic}
                onClick=${() => go('/dlq', { topic: t.topic })}
              >
                <span class="topic-name">${t.topic}</span>
                <span class="counts">
                  <span title="waiting for an operator">${t.counts.DEAD} dead</span>
                  ${t.counts.PARKED > 0 && html`<span title="past the redrive cap">${t.counts.PARKED} parked</span>`}
                  ${t.counts.REDRIVING > 0 && html`<span>${t.counts.REDRIVING} redriving</span>`}
                  ${t.counts.REDRIVEN > 0 && html`<span>${t.counts.REDRIVEN} redriven</span>`}
                  ${t.counts.DISCARDED > 0 && html`<span>${t.counts.DISCARDED} discarded</span>`}
                </span>
              </button>
            </li>`,
        )}
      </ul>
    </section>
  `;
}

function Rows({ items, selected, toggle, onRedrive, onDiscard }) {
  return html`
    <table class="grid compact" data-testid="dlq-table">
      <thead>
        <tr>
          <th></th>
          <th>failed</th>
          <th>group</th>
          <th>reason</th>
          <th>key</th>
          <th>event</th>
          <th title="deliveries before the DLQ · redrives before">tries</th>
          <th>status</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${items.map(
          (d) =>
            html`<tr data-testid="dlq-row" data-id=${d.id} data-event-id=${d.eventId ?? ''}>
              <td>
                <input
                  type="checkbox"
                  data-testid="dlq-select"
                  checked=${selected.has(d.id)}
                  onChange=${() => toggle(d.id)}
                  aria-label="select"
                />
              </td>
              <td class="nowrap">${when(d.failedAt)}</td>
              <td>${d.consumerGroup}</td>
              <td title=${d.errorMessage}>${d.reason}<br /><span class="muted">${d.errorCode}</span></td>
              <td class="mono cut" title=${d.key ?? ''}>${d.key ?? '—'}</td>
              <td class="mono cut" title=${d.eventId ?? ''}>
                ${d.eventId ? html`<a href=${`#/events/${encodeURIComponent(d.eventId)}`} data-testid="dlq-event-link">${d.eventId}</a>` : '—'}
              </td>
              <td class="nowrap">${`${d.attempts} · ${d.redriveCount}`}</td>
              <td><${Badge} value=${d.status} testid="dlq-status" /></td>
              <td class="actions">
                <a href=${`#/dlq/${d.id}`} data-testid="dlq-open">Open</a>
                ${
                  d.status === 'DEAD' &&
                  html`<button data-testid="dlq-redrive-one" onClick=${() => onRedrive({ ids: [d.id] })}>
                      Redrive
                    </button>
                    <button
                      class="secondary"
                      data-testid="dlq-discard-one"
                      onClick=${() => onDiscard({ ids: [d.id] })}
                    >
                      Discard
                    </button>`
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  `;
}

function TopicRecords({ query, onChanged }) {
  const [cursors, setCursors] = useState([null]);
  const [selected, setSelected] = useState(new Set());
  const [dialog, setDialog] = useState(null);
  const cursor = cursors[cursors.length - 1];
  const key = JSON.stringify(query);
  useEffect(() => {
    setCursors([null]);
    setSelected(new Set());
  }, [key]);
  const page = useLoad(
    () => api('/v1/admin/dlq', { query: { ...query, limit: PAGE_SIZE, cursor } }),
    [key, cursor],
    REFRESH_MS,
  );
  const toggle = (id) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const closeDialog = (changed) => {
    setDialog(null);
    if (changed) {
      onChanged();
      setSelected(new Set());
      void page.reload();
    }
  };
  const filter = redriveFilterOf(query);
  const items = page.data?.items ?? [];

  return html`
    <section class="records">
      <${DeadLetterFilters} query=${query} />
      <div class="bulk">
        <span data-testid="dlq-total">${page.data ? `${page.data.total} matching` : ''}</span>
        <button
          data-testid="dlq-redrive-selected"
          disabled=${selected.size === 0}
          onClick=${() => setDialog({ kind: 'redrive', selection: { ids: [...selected] } })}
        >
          Redrive selected (${selected.size})
        </button>
        <button
          data-testid="dlq-redrive-filter"
          disabled=${!page.data?.total}
          onClick=${() => setDialog({ kind: 'redrive', selection: { filter } })}
        >
          Redrive all matching…
        </button>
        <button
          class="secondary"
          data-testid="dlq-discard-selected"
          disabled=${selected.size === 0}
          onClick=${() => setDialog({ kind: 'discard', selection: { ids: [...selected] } })}
        >
          Discard selected
        </button>
        <button
          class="secondary"
          data-testid="dlq-discard-filter"
          disabled=${!page.data?.total}
          onClick=${() => setDialog({ kind: 'discard', selection: { filter }, count: page.data?.total })}
        >
          Discard all matching…
        </button>
        <button class="link" data-testid="dlq-refresh" onClick=${() => (onChanged(), page.reload())}>
          Refresh
        </button>
      </div>
      <${ErrorNote} error=${page.error} testid="dlq-error" />
      ${page.data && items.length === 0 && html`<p class="muted" data-testid="dlq-empty">Nothing matches.</p>`}
      ${
        items.length > 0 &&
        html`<${Rows}
          items=${items}
          selected=${selected}
          toggle=${toggle}
          onRedrive=${(selection) => setDialog({ kind: 'redrive', selection })}
          onDiscard=${(selection) => setDialog({ kind: 'discard', selection })}
        />`
      }
      <div class="pager">
        <button
          class="link"
          disabled=${cursors.length === 1}
          onClick=${() => setCursors((c) => c.slice(0, -1))}
        >
          ← Newer
        </button>
        <button
          class="link"
          data-testid="dlq-older"
          disabled=${!page.data?.nextCursor}
          onClick=${() => setCursors((c) => [...c, page.data.nextCursor])}
        >
          Older →
        </button>
      </div>
      ${dialog?.kind === 'redrive' && html`<${RedriveDialog} selection=${dialog.selection} onClose=${closeDialog} />`}
      ${
        dialog?.kind === 'discard' &&
        html`<${DiscardDialog}
          selection=${dialog.selection}
          count=${dialog.count ?? dialog.selection.ids?.length}
          onClose=${closeDialog}
        />`
      }
    </section>
  `;
}

export function DeadLetters({ query }) {
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  return html`
    <div class="dlq">
      <${Topics} current=${query.topic} version=${version} />
      ${
        query.topic
          ? html`<${TopicRecords} query=${query} onChanged=${changed} />`
          : html`<p class="muted" data-testid="dlq-pick-topic">Pick a topic to browse its dead letters.</p>`
      }
    </div>
  `;
}
