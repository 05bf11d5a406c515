// The console's shell: sign-in gate, navigation and hash routes (`#/dlq?topic=…`, `#/dlq/<id>`,
// `#/events/<eventId>`, …), so every view can be linked and reloaded.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { claimsOf, session, whenUnauthorized } from './api.js';
import { html } from './ui.js';
import { Login } from './views/login.js';
import { DeadLetters } from './views/dead-letters.js';
import { DeadLetterDetail } from './views/dead-letter-detail.js';
import { EventLife } from './views/event-life.js';
import { Queues } from './views/queues.js';
import { Breakers } from './views/breakers.js';
import { Audit } from './views/audit.js';
import { Charts } from './views/charts.js';

const NAV = [
  { path: '/dlq', label: 'Dead letters' },
  { path: '/queues', label: 'Jobs & queues' },
  { path: '/breakers', label: 'Breakers' },
  { path: '/charts', label: 'Charts' },
  { path: '/audit', label: 'Audit log' },
];

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/dlq';
  const [path, search = ''] = raw.split('?');
  return { path, query: Object.fromEntries(new URLSearchParams(search)) };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const update = () => setRoute(parseHash());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

function View({ route }) {
  const [, section, id] = route.path.split('/').map((part) => decodeURIComponent(part));
  if (section === 'dlq' && id) return html`<${DeadLetterDetail} id=${id} />`;
  if (section === 'dlq') return html`<${DeadLetters} query=${route.query} />`;
  if (section === 'events' && id) return html`<${EventLife} eventId=${id} />`;
  if (section === 'events') return html`<${EventLife} />`;
  if (section === 'queues') return html`<${Queues} />`;
  if (section === 'breakers') return html`<${Breakers} />`;
  if (section === 'charts') return html`<${Charts} range=${route.query.range} />`;
  if (section === 'audit') return html`<${Audit} query=${route.query} />`;
  return html`<p data-testid="not-found">No such view: ${route.path}</p>`;
}

function App() {
  const [token, setToken] = useState(session.token);
  const [expired, setExpired] = useState(undefined);
  const route = useRoute();
  // A token the api stops accepting (expired, or the api's keys changed) sends the operator back
  // to the sign-in form, saying why.
  useEffect(
    () =>
      whenUnauthorized((failure) => {
        session.signOut();
        setExpired(failure);
        setToken(null);
      }),
    [],
  );

  if (!token) {
    return html`<${Login}
      refused=${expired}
      onSignedIn=${(value) => {
        session.signIn(value);
        setExpired(undefined);
        setToken(value);
      }}
    />`;
  }
  const section = `/${route.path.split('/')[1] ?? ''}`;
  const activeSection = section === '/events' ? '/dlq' : section;
  return html`
    <header class="top">
      <h1>Fleet ops</h1>
      <nav>
        ${NAV.map(
          (item) =>
            html`<a
              href=${`#${item.path}`}
              class=${activeSection === item.path ? 'active' : ''}
              data-testid=${`nav-${item.path.slice(1)}`}
              >${item.label}</a
            >`,
        )}
        <a href="#/events" class=${section === '/events' ? 'active' : ''} data-testid="nav-events"
          >Event life</a
        >
      </nav>
      <span class="who" data-testid="signed-in-as">${claimsOf(token).sub ?? 'signed in'}</span>
      <button
        class="link"
        data-testid="logout"
        onClick=${() => {
          session.signOut();
          setToken(null);
        }}
      >
        Sign out
      </button>
    </header>
    <main><${View} route=${route} /></main>
  `;
}

const root = document.getElementById('root');
// Preact renders beside what is there: the loading note goes first.
root.replaceChildren();
render(html`<${App} />`, root);
