// Discarding dead letters: they stay in the index (DISCARDED, with the reason) but are never
// redriven. A reason is required; it goes to the audit log with the operator's name.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorNote, html } from '../ui.js';

export function DiscardDialog({ selection, count, onClose }) {
  const [reason, setReason] = useState('');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const discard = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      setResult(
        await api('/v1/admin/dlq/discard', { method: 'POST', body: { ...selection, reason: reason.trim() } }),
      );
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <div class="dialog" role="dialog" aria-modal="true" data-testid="discard-dialog">
      <form class="dialog-body" onSubmit=${discard}>
        <h2>Discard ${count ?? ''} dead letter${count === 1 ? '' : 's'}</h2>
        ${selection.filter && html`<pre class="json">${JSON.stringify(selection.filter, null, 2)}</pre>`}
        <label
          >reason (required, kept in the audit log)
          <input
            data-testid="discard-reason"
            required
            value=${reason}
            onInput=${(e) => setReason(e.currentTarget.value)}
        /></label>
        <${ErrorNote} error=${error} testid="discard-error" />
        ${result && html`<p data-testid="discard-result">${result.discarded} discarded.</p>`}
        <div class="dialog-actions">
          ${
            !result &&
            html`<button
              type="submit"
              class="danger"
              data-testid="discard-confirm"
              disabled=${busy || !reason.trim()}
            >
              Discard
            </button>`
          }
          <button
            type="button"
            class="secondary"
            data-testid="discard-close"
            onClick=${() => onClose(Boolean(result))}
          >
            ${result ? 'Close' : 'Cancel'}
          </button>
        </div>
      </form>
    </div>
  `;
}
