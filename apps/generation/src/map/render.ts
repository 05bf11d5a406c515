import { type MapLayout } from './map-model';

/** The map's JSON artifact: everything the SVG shows, with coordinates, for other renderers. */
export interface MapDocument {
  version: 1;
  jobId: string;
  source: { filename: string; sections: number };
  width: number;
  height: number;
  regions: MapLayout['regions'];
  places: MapLayout['places'];
  routes: MapLayout['routes'];
}

/** Deterministic (no timestamps): re-rendering a job gives the same bytes. */
export function renderJson(
  layout: MapLayout,
  meta: { jobId: string; filename: string; sections: number },
): string {
  const document: MapDocument = {
    version: 1,
    jobId: meta.jobId,
    source: { filename: meta.filename, sections: meta.sections },
    width: layout.width,
    height: layout.height,
    regions: layout.regions,
    places: layout.places,
    routes: layout.routes,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Text and attribute values come from a user's document via an LLM: escape everything. */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]!};`,
  );
}

/** Region fills, cycled; pale so labels stay readable. */
const FILLS = ['#e8f1e4', '#f3ecdc', '#e3edf5', '#f2e4ea', '#ece8f4', '#f4f0e0', '#e0f0ee', '#f0e6dc'];

/**
 * The SVG image: regions as labelled rounded rectangles, routes as lines (dashed when their kind
 * mentions a path, trail, sea or river), places as dots with their names. Starts with `<svg`.
 */
export function renderSvg(layout: MapLayout, title: string): string {
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" font-family="sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fbfaf6"/>`,
  );
  layout.regions.forEach((r, i) => {
    out.push(
      `<g class="region"><rect x="${r.x}" y="${r.y}" width="${r.width}" height="${r.height}" rx="18" fill="${FILLS[i % FILLS.length]}" stroke="#8a8470"/>`,
      `<text x="${r.x + 14}" y="${r.y + 22}" font-size="15" font-weight="bold" fill="#3d3a30">${escapeXml(r.name)}</text>`,
      `<desc>${escapeXml(r.description)}</desc></g>`,
    );
  });
  for (const route of layout.routes) {
    const dashed = /path|trail|sea|river|ferry|track/i.test(route.kind) ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<line class="route" x1="${route.x1}" y1="${route.y1}" x2="${route.x2}" y2="${route.y2}" stroke="#7a5c3e" stroke-width="2"${dashed}><title>${escapeXml(`${route.from} – ${route.to} (${route.kind})`)}</title></line>`,
    );
  }
  for (const p of layout.places) {
    out.push(
      `<g class="place"><circle cx="${p.x}" cy="${p.y}" r="5" fill="#b5442b" stroke="#fff" stroke-width="1.5"><title>${escapeXml(`${p.name} (${p.kind})`)}</title></circle>`,
      `<text x="${p.x + 8}" y="${p.y + 4}" font-size="11" fill="#222">${escapeXml(p.name)}</text></g>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
