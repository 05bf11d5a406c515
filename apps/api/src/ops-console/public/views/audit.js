// The audit log: every operator action (redrive, discard, breaker override), newest first.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorNote, go, html, useLoad, when } from '../ui.js';

export function Audit({ query }) {
  const [action, setAction] = useState(query.action ?? '');
  const log = useLoad(
    () => api('/v1/admin/audit', { query: { limit: 100, action: query.action } }),
    [query.action],
    10_000,
  );
  return html`
    <section data-testid="audit">
      <form
        class="filters"
        onSubmit=${(e) => {
          e.preventDefault();
          go('/audit', { action: action.trim() });
        }}
      >
        <label
          >action (or a prefix ending in ".")
          <input
            data-testid="audit-filter-action"
            placeholder="dlq.redrive, breaker."
            value=${action}
            onInput=${(e) => setAction(e.currentTarget.value)}
        /></label>
        <button type="submit">Filter</button>
      </form>
      <${ErrorNote} error=${log.error} testid="audit-error" />
      <table class="grid">
        <thead>
          <tr>
            <th>at</th>
            <th>actor</th>
            <th>action</th>
            <th>target</th>
            <th>count</th>
            <th>reason</th>
            <th>filter / detail</th>
          </tr>
        </thead>
        <tbody>
          ${(log.data?.items ?? []).map(
            (entry) =>
              html`<tr data-testid="audit-row" data-action=${entry.action}>
                <td>${when(entry.at)}</td>
                <td>${entry.actor}</td>
                <td>${entry.action}${entry.dryRun ? ' (dry run)' : ''}</td>
                <td class="mono">${entry.target ?? '—'}</td>
                <td class="num">${entry.count}</td>
                <td>${entry.reason ?? '—'}</td>
                <td class="mono wrap">
                  ${[entry.filter, entry.detail]
                    .filter((v) => v !== null && v !== undefined)
                    .map((v) => JSON.stringify(v))
                    .join(' ')}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${log.data?.items.length === 0 && html`<p class="muted">Nothing audited yet.</p>`}
    </section>
  `;
}
