// Sign-in: the operator pastes a bearer token; it is tried on an admin route before it is kept, so
// a token without the fleet:admin scope (403) or one the api refuses (401) is said so at once.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorNote, html } from '../ui.js';

export function Login({ onSignedIn, refused }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(refused);
  const [busy, setBusy] = useState(false);

  const submit = async (event) => {
    event.preventDefault();
    const value = token.trim().replace(/^Bearer\s+/i, '');
    if (!value) return setError(new Error('Paste a bearer token first.'));
    setBusy(true);
    try {
      // The cheapest admin route: no database, no broker; only the token and its scope are judged.
      await api('/v1/admin/charts', { token: value });
      onSignedIn(value);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <section class="login">
      <h1>Fleet ops console</h1>
      <p class="muted">
        Paste a bearer token with the <code>fleet:admin</code> scope. It is kept in this tab only
        (sessionStorage).
      </p>
      <p class="muted">
        Locally: <code>node dist/apps/api/admin.js mint-token you --scope fleet:admin</code>
      </p>
      <form onSubmit=${submit}>
        <textarea
          data-testid="login-token"
          rows="5"
          placeholder="eyJhbGciOi…"
          value=${token}
          onInput=${(e) => setToken(e.currentTarget.value)}
        ></textarea>
        <button type="submit" data-testid="login-submit" disabled=${busy}>Sign in</button>
      </form>
      <${ErrorNote} error=${error} testid="login-error" />
    </section>
  `;
}
