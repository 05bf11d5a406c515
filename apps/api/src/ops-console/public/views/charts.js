// Small charts of the fleet's metrics, drawn with uPlot from `GET /v1/admin/charts/:name` (the api
// runs a fixed PromQL query per chart on its Prometheus and aligns the series on one time axis).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { api } from '../api.js';
import { ErrorNote, go, html, useLoad } from '../ui.js';

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
const WIDTH = 520;
const HEIGHT = 200;

/** A series name without the fleet's topic namespace, which every topic and group in it carries. */
export const withoutNamespace = (name, namespace) =>
  namespace
    ? name
        .split(' ')
        .map((word) => (word.startsWith(`${namespace}.`) ? word.slice(namespace.length + 1) : word))
        .join(' ')
    : name;

function Plot({ chart, namespace }) {
  const box = useRef(null);
  useEffect(() => {
    const plot = new uPlot(
      {
        width: WIDTH,
        height: HEIGHT,
        series: [
          {},
          ...chart.series.map((s, i) => ({
            label: withoutNamespace(s.name, namespace),
            stroke: PALETTE[i % PALETTE.length],
            width: 1.5,
            spanGaps: false,
            // Sparse series (a single dead letter) are points, not lines.
            points: { show: true, size: 4 },
          })),
        ],
        axes: [{}, { label: chart.unit, size: 60 }],
        scales: { x: { time: true } },
        legend: { live: true },
      },
      [chart.timestamps, ...chart.series.map((s) => s.values)],
      box.current,
    );
    return () => plot.destroy();
  }, [chart]);
  return html`<div ref=${box} class="plot"></div>`;
}

function Chart({ info, range, namespace }) {
  const chart = useLoad(
    () => api(`/v1/admin/charts/${info.name}`, { query: { range } }),
    [info.name, range],
    15_000,
  );
  const values = (chart.data?.series ?? []).flatMap((s) => s.values.filter((v) => v !== null));
  // What the chart holds, for tests and for a glance in the DOM: points drawn and the largest value.
  return html`<figure
    class="chart"
    data-testid="chart"
    data-name=${info.name}
    data-points=${values.length}
    data-max=${values.length ? Math.max(...values) : ''}
  >
    <figcaption title=${info.description}>${info.title}</figcaption>
    <${ErrorNote} error=${chart.error} testid="chart-error" />
    ${chart.data && chart.data.series.length === 0 && html`<p class="muted" data-testid="chart-empty">No series in this range.</p>`}
    ${chart.data && chart.data.series.length > 0 && html`<${Plot} chart=${chart.data} namespace=${namespace} />`}
  </figure>`;
}

export function Charts({ range = '1h' }) {
  const list = useLoad(() => api('/v1/admin/charts'), []);
  return html`
    <section data-testid="charts">
      <div class="toolbar">
        ${(list.data?.ranges ?? []).map(
          (r) =>
            html`<button
              class=${r === range ? '' : 'secondary'}
              data-testid=${`charts-range-${r}`}
              onClick=${() => go('/charts', { range: r })}
            >
              ${r}
            </button>`,
        )}
      </div>
      <${ErrorNote} error=${list.error} testid="charts-error" />
      ${
        list.data &&
        !list.data.prometheus &&
        html`<p class="error" data-testid="charts-no-prometheus">
          The api has no PROMETHEUS_URL: set it to the Prometheus that scrapes the fleet to see these charts.
        </p>`
      }
      <div class="chart-grid">
        ${(list.data?.charts ?? []).map((info) => html`<${Chart} info=${info} range=${range} namespace=${list.data.namespace} />`)}
      </div>
    </section>
  `;
}
