// Circuit breakers: each breaker's state on every replica that runs it, and the operator's
// overrides — force open, force closed, reset (back to the breaker's own judgement), each with a
// reason that goes to the audit log.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Badge, ErrorNote, html, useLoad, when } from '../ui.js';

/** One row per breaker and replica (`GET /v1/admin/breakers`: breakers, each with its replicas). */
export const breakerRows = (data) =>
  (data?.breakers ?? []).flatMap((b) => b.replicas.map((r) => ({ ...r, name: b.name })));

function Actions({ name, onDone }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const act = async (action) => {
    setBusy(true);
    setError(null);
    try {
      await api(`/v1/admin/breakers/${encodeURIComponent(name)}/${action}`, {
        method: 'POST',
        // A reset needs no reason; forcing does.
        body: reason.trim() ? { reason: reason.trim() } : {},
      });
      setReason('');
      onDone();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const disabled = busy || !reason.trim();
  return html`<div class="breaker-actions" data-testid="breaker-actions" data-name=${name}>
    <input
      data-testid="breaker-reason"
      placeholder="reason (required to force)"
      value=${reason}
      onInput=${(e) => setReason(e.currentTarget.value)}
    />
    <button class="danger" data-testid="breaker-open" disabled=${disabled} onClick=${() => act('open')}>
      Force open
    </button>
    <button data-testid="breaker-close" disabled=${disabled} onClick=${() => act('close')}>
      Force closed
    </button>
    <button class="secondary" data-testid="breaker-reset" disabled=${busy} onClick=${() => act('reset')}>
      Reset
    </button>
    <${ErrorNote} error=${error} testid="breaker-error" />
  </div>`;
}

export function Breakers() {
  const breakers = useLoad(() => api('/v1/admin/breakers'), [], 3_000);
  const rows = breakerRows(breakers.data);
  const names = [...new Set(rows.map((r) => r.name))].sort();
  return html`
    <section data-testid="breakers">
      <${ErrorNote} error=${breakers.error} testid="breakers-error" />
      ${breakers.data && names.length === 0 && html`<p class="muted">No replica reports a breaker.</p>`}
      ${names.map(
        (name) =>
          html`<div class="breaker" data-testid="breaker" data-name=${name}>
            <h2>${name}</h2>
            <table class="grid">
              <thead>
                <tr>
                  <th>app</th>
                  <th>replica</th>
                  <th>state</th>
                  <th>override</th>
                  <th>calls (failures)</th>
                  <th>reported</th>
                </tr>
              </thead>
              <tbody>
                ${rows
                  .filter((r) => r.name === name)
                  .map(
                    (r) =>
                      html`<tr data-testid="breaker-row" data-name=${name} data-replica=${r.replica}>
                        <td>${r.app ?? '—'}</td>
                        <td class="mono">${r.replica}</td>
                        <td><${Badge} value=${r.state} testid="breaker-state" /></td>
                        <td>
                          ${r.override ? `${r.override.mode}: ${r.override.reason}${r.override.actor ? ` (${r.override.actor})` : ''}` : '—'}
                        </td>
                        <td class="num">${r.counts ? `${r.counts.calls} (${r.counts.failures})` : '—'}</td>
                        <td>${when(r.updatedAt)}</td>
                      </tr>`,
                  )}
              </tbody>
            </table>
            <${Actions} name=${name} onDone=${() => breakers.reload()} />
          </div>`,
      )}
    </section>
  `;
}
