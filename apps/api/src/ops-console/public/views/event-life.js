// An event's whole life by its id: outbox row, publish, Kafka write, each consumer group's
// deliveries, retries, dead letters, redrives — in order — with each group's outcome and the link
// to its trace in Jaeger.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Badge, ErrorNote, Json, go, html, useLoad, when } from '../ui.js';

function Lookup({ eventId }) {
  const [value, setValue] = useState(eventId ?? '');
  return html`<form
    class="filters"
    onSubmit=${(e) => {
      e.preventDefault();
      if (value.trim()) go(`/events/${encodeURIComponent(value.trim())}`);
    }}
  >
    <label
      >event id
      <input
        data-testid="event-id-input"
        size="40"
        value=${value}
        onInput=${(e) => setValue(e.currentTarget.value)}
    /></label>
    <button type="submit" data-testid="event-id-submit">Show its life</button>
  </form>`;
}

function Steps({ steps }) {
  return html`<ol class="steps" data-testid="event-steps">
    ${steps.map(
      (step) =>
        html`<li
          data-testid="event-step"
          data-kind=${step.kind}
          class=${`step step-${step.kind.replace('.', '-')}`}
        >
          <span class="at">${when(step.at)}</span>
          <span class="kind">${step.kind}</span>
          ${step.group && html`<span class="group">${step.group}</span>`}
          <span class="detail">${step.detail}</span>
        </li>`,
    )}
  </ol>`;
}

function Life({ life }) {
  return html`
    <div data-testid="event-life">
      <h2>Event <span class="mono">${life.eventId}</span></h2>
      <p>
        ${[life.topic, `key ${life.key ?? '—'}`, life.eventType].filter(Boolean).join(' · ')}
        ${
          life.jaegerUrl &&
          html`<a
            class="aside"
            href=${life.jaegerUrl}
            target="_blank"
            rel="noopener"
            data-testid="event-jaeger"
            >trace ${life.traceId}</a
          >`
        }
      </p>
      <h3>Consumer groups</h3>
      <table class="grid">
        <thead>
          <tr>
            <th>group</th>
            <th>outcome</th>
            <th>deliveries</th>
            <th>redrives</th>
          </tr>
        </thead>
        <tbody>
          ${life.groups.map(
            (g) =>
              html`<tr data-testid="event-group" data-group=${g.group}>
                <td>${g.group}</td>
                <td><${Badge} value=${g.outcome} testid="event-group-outcome" /></td>
                <td>${g.attempts}</td>
                <td>${g.redrives ?? 0}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <h3>Steps</h3>
      <${Steps} steps=${life.steps} />
      ${
        (life.deadLetters ?? []).length > 0 &&
        html`<h3>Dead letters</h3>
          <ul>
            ${life.deadLetters.map(
              (d) =>
                html`<li>
                  <a href=${`#/dlq/${d.id}`} data-testid="event-dead-letter"
                    >${d.consumerGroup} · ${d.reason}</a
                  >
                  <${Badge} value=${d.status} /> ${when(d.failedAt)}
                </li>`,
            )}
          </ul>`
      }
      <div class="columns">
        <div>
          <h3>Outbox row</h3>
          <${Json} value=${life.outbox} testid="event-outbox" />
        </div>
        <div>
          <h3>Business row</h3>
          <${Json} value=${life.business} testid="event-business" />
        </div>
      </div>
    </div>
  `;
}

export function EventLife({ eventId }) {
  const life = useLoad(
    () => (eventId ? api(`/v1/admin/events/${encodeURIComponent(eventId)}`) : Promise.resolve(null)),
    [eventId],
  );
  const unknown = life.error?.status === 404;
  return html`
    <section class="event">
      <${Lookup} eventId=${eventId} />
      ${
        unknown
          ? html`<p class="muted" data-testid="event-unknown">
              No event ${eventId} in the outbox, Kafka or the dead letters.
            </p>`
          : html`<${ErrorNote} error=${life.error} testid="event-error" />`
      }
      ${life.loading && !life.data && eventId && html`<p class="muted">Reading its life…</p>`}
      ${life.data && html`<${Life} life=${life.data} />`}
    </section>
  `;
}
