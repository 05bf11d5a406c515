// Jobs per kind and status, and the lag of every consumer group on the fleet's topics (read from
// the broker, so a group with no member running shows too).
import { ErrorNote, html, useLoad, when } from '../ui.js';
import { api } from '../api.js';

const JOB_COLUMNS = ['pending', 'processing', 'completed', 'failed', 'cancelled', 'total'];

function Lag({ consumerLag }) {
  if (consumerLag.status !== 'ok') {
    return html`<p class="error" data-testid="queues-lag-unavailable">${consumerLag.reason}</p>`;
  }
  if (consumerLag.groups.length === 0)
    return html`<p class="muted">No consumer group reads the fleet's topics.</p>`;
  return html`<table class="grid" data-testid="queues-lag">
    <thead>
      <tr>
        <th>group</th>
        <th>state</th>
        <th>members</th>
        <th>topic</th>
        <th>lag</th>
        <th>per partition</th>
      </tr>
    </thead>
    <tbody>
      ${consumerLag.groups.flatMap((g) =>
        g.topics.map(
          (t) =>
            html`<tr data-testid="queues-lag-row" data-group=${g.groupId} data-topic=${t.topic}>
              <td>${g.groupId}</td>
              <td class=${g.state === 'Stable' ? '' : 'warn'}>${g.state}</td>
              <td>${g.members}</td>
              <td>${t.topic}</td>
              <td class="num" data-testid="queues-lag-value">${t.lag}</td>
              <td class="muted">${t.partitions.map((p) => `${p.partition}:${p.lag}`).join(' ')}</td>
            </tr>`,
        ),
      )}
    </tbody>
  </table>`;
}

export function Queues() {
  const queues = useLoad(() => api('/v1/admin/queues'), [], 5_000);
  const q = queues.data;
  return html`
    <section data-testid="queues">
      <h2>Jobs</h2>
      <${ErrorNote} error=${queues.error} testid="queues-error" />
      ${
        q &&
        html`<table class="grid" data-testid="queues-jobs">
            <thead>
              <tr>
                <th>kind</th>
                ${JOB_COLUMNS.map((c) => html`<th>${c}</th>`)}
              </tr>
            </thead>
            <tbody>
              ${q.jobs.map(
                (k) =>
                  html`<tr data-testid="queues-jobs-row" data-kind=${k.kind}>
                    <td>${k.kind}</td>
                    ${JOB_COLUMNS.map((c) => html`<td class="num">${k[c]}</td>`)}
                  </tr>`,
              )}
            </tbody>
          </table>
          ${q.jobs.length === 0 && html`<p class="muted">No jobs.</p>`}
          <h2>Consumer lag</h2>
          <${Lag} consumerLag=${q.consumerLag} />
          <p class="muted">as of ${when(q.at)}</p>`
      }
    </section>
  `;
}
