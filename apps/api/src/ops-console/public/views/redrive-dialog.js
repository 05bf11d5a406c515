// A redrive, always in two steps: a dry run first (how many records, which groups they go back
// to), then — only once the operator confirms that count — the redrive itself, followed until it
// finishes by polling `GET /v1/admin/dlq/redrives/:id`.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Badge, ErrorNote, html } from '../ui.js';

const POLL_MS = 500;

function Progress({ redrive }) {
  const done = redrive.redriven + redrive.skipped + redrive.failed;
  // One string: htm drops whitespace that holds a line break next to an interpolation.
  const counts = `${redrive.redriven} redriven, ${redrive.skipped} skipped, ${redrive.failed} failed of ${redrive.matched}`;
  return html`
    <div data-testid="redrive-progress">
      <progress max=${Math.max(redrive.matched, 1)} value=${done}></progress>
      <p>
        <${Badge} value=${redrive.status} testid="redrive-status" />
        <span data-testid="redrive-counts">${counts}</span>
      </p>
      ${redrive.error && html`<p class="error">${redrive.error}</p>`}
    </div>
  `;
}

export function RedriveDialog({ selection, onClose }) {
  const [preview, setPreview] = useState(null);
  const [redrive, setRedrive] = useState(null);
  const [rate, setRate] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api('/v1/admin/dlq/redrive', { method: 'POST', body: { ...selection, dryRun: true } }).then(
      setPreview,
      setError,
    );
  }, []);

  useEffect(() => {
    if (!redrive || redrive.status !== 'RUNNING') return undefined;
    const timer = setTimeout(() => {
      api(`/v1/admin/dlq/redrives/${redrive.id}`).then(setRedrive, setError);
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [redrive]);

  const start = async () => {
    setBusy(true);
    try {
      const body = { ...selection, ...(rate ? { ratePerSecond: Number(rate) } : {}) };
      setRedrive(await api('/v1/admin/dlq/redrive', { method: 'POST', body }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const finished = redrive && redrive.status !== 'RUNNING';
  return html`
    <div class="dialog" role="dialog" aria-modal="true" data-testid="redrive-dialog">
      <div class="dialog-body">
        <h2>Redrive ${selection.ids ? `${selection.ids.length} selected` : 'every match of the filter'}</h2>
        ${selection.filter && html`<pre class="json">${JSON.stringify(selection.filter, null, 2)}</pre>`}
        ${!preview && !error && html`<p class="muted">Dry run…</p>`}
        ${
          preview &&
          html`<div data-testid="redrive-preview">
            <p>
              Dry run: <strong data-testid="redrive-dry-run-count">${preview.matched}</strong> dead
              letter${preview.matched === 1 ? '' : 's'} would go back to the retry path of the group that
              failed them.
            </p>
            <ul>
              ${Object.entries(preview.byGroup).map(
                ([group, n]) => html`<li data-testid="redrive-by-group">${group}: ${n}</li>`,
              )}
            </ul>
          </div>`
        }
        <${ErrorNote} error=${error} testid="redrive-error" />
        ${redrive && html`<${Progress} redrive=${redrive} />`}
        <div class="dialog-actions">
          ${
            !redrive &&
            html`<label
                >rate/s
                <input
                  type="number"
                  min="1"
                  placeholder="default"
                  data-testid="redrive-rate"
                  value=${rate}
                  onInput=${(e) => setRate(e.currentTarget.value)}
              /></label>
              <button
                data-testid="redrive-confirm"
                disabled=${busy || !preview || preview.matched === 0}
                onClick=${start}
              >
                Redrive ${preview?.matched ?? ''}
              </button>`
          }
          <button class="secondary" data-testid="redrive-close" onClick=${() => onClose(Boolean(redrive))}>
            ${finished ? 'Close' : redrive ? 'Close (keeps running)' : 'Cancel'}
          </button>
        </div>
      </div>
    </div>
  `;
}
