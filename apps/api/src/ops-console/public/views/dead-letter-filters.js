// The dead-letter filters, kept in the URL (`#/dlq?topic=…&group=…`) so a filtered view can be
// shared and reloaded; applying one navigates.
import { useEffect, useState } from 'preact/hooks';
import { fromLocalInput, go, html, toLocalInput } from '../ui.js';

/** The reasons the Kafka runtime dead-letters with (`DLQ_REASONS` of @fleet/contracts). */
const REASONS = ['EMPTY_VALUE', 'MALFORMED_JSON', 'SCHEMA_INVALID', 'NON_RETRIABLE', 'RETRIES_EXHAUSTED'];
const STATUSES = ['DEAD', 'REDRIVING', 'REDRIVEN', 'DISCARDED', 'PARKED'];
/** Filter fields that narrow a redrive or discard too (the status does not: only DEAD ones go). */
const SELECTION_FIELDS = ['topic', 'group', 'reason', 'errorCode', 'key', 'eventId', 'from', 'to'];

/** The redrive/discard `filter` of the URL's query: the listing's filter without its status. */
export function redriveFilterOf(query) {
  return Object.fromEntries(SELECTION_FIELDS.filter((f) => query[f]).map((f) => [f, query[f]]));
}

export function DeadLetterFilters({ query }) {
  const [draft, setDraft] = useState(query);
  useEffect(() => setDraft(query), [JSON.stringify(query)]);
  const field = (name) => ({
    value: draft[name] ?? '',
    onInput: (e) => setDraft({ ...draft, [name]: e.currentTarget.value }),
  });
  const apply = (event) => {
    event.preventDefault();
    go('/dlq', { ...draft, topic: query.topic });
  };
  return html`
    <form class="filters" onSubmit=${apply} data-testid="dlq-filters">
      <label>group <input data-testid="dlq-filter-group" ...${field('group')} /></label>
      <label
        >reason
        <select data-testid="dlq-filter-reason" ...${field('reason')}>
          <option value="">any</option>
          ${REASONS.map((r) => html`<option value=${r}>${r}</option>`)}
        </select>
      </label>
      <label>error code <input data-testid="dlq-filter-error-code" ...${field('errorCode')} /></label>
      <label>key <input data-testid="dlq-filter-key" ...${field('key')} /></label>
      <label>event id <input data-testid="dlq-filter-event-id" ...${field('eventId')} /></label>
      <label
        >from
        <input
          type="datetime-local"
          data-testid="dlq-filter-from"
          value=${toLocalInput(draft.from)}
          onInput=${(e) => setDraft({ ...draft, from: fromLocalInput(e.currentTarget.value) })}
      /></label>
      <label
        >to
        <input
          type="datetime-local"
          data-testid="dlq-filter-to"
          value=${toLocalInput(draft.to)}
          onInput=${(e) => setDraft({ ...draft, to: fromLocalInput(e.currentTarget.value) })}
      /></label>
      <label
        >status
        <select data-testid="dlq-filter-status" ...${field('status')}>
          <option value="">any</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </label>
      <button type="submit" data-testid="dlq-filter-apply">Apply</button>
      <button type="button" class="link" onClick=${() => go('/dlq', { topic: query.topic })}>Clear</button>
    </form>
  `;
}
