import { type MapModel, type MapStructure, type Section } from './map-model';

/** Region that takes places whose region the model did not list. */
export const UNASSIGNED_REGION = 'Unassigned';

/**
 * Splits a text or Markdown document into sections: a Markdown heading (`#`…`######`) or a
 * Setext-style underline starts one; text before the first heading is a section without one.
 * Empty sections are dropped. Line endings are normalized first.
 */
export function splitSections(document: string): Section[] {
  const lines = document.replace(/\r\n?/g, '\n').split('\n');
  const sections: Section[] = [];
  let heading: string | null = null;
  let body: string[] = [];
  const flush = () => {
    const text = body.join('\n').trim();
    if (heading !== null || text !== '') sections.push({ heading, text });
    body = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const atx = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    const next = lines[i + 1];
    if (atx) {
      flush();
      heading = atx[2]!.trim() || null;
    } else if (
      line.trim() !== '' &&
      next !== undefined &&
      /^\s{0,3}(=+|-+)\s*$/.test(next) &&
      // A one-line paragraph underlined is a Setext heading; a bare `---` after a blank line is a rule.
      (i === 0 || lines[i - 1]!.trim() === '')
    ) {
      flush();
      heading = line.trim();
      i++;
    } else {
      body.push(line);
    }
  }
  flush();
  return sections.filter((s) => s.heading !== null || s.text !== '');
}

/** The sections as the LLM reads them: numbered, headings kept. */
export function sectionsPrompt(sections: readonly Section[]): string {
  return sections
    .map((s, i) => `## Section ${i + 1}${s.heading ? `: ${s.heading}` : ''}\n${s.text}`)
    .join('\n\n');
}

const key = (name: string) => name.trim().toLowerCase();

/**
 * Makes the LLM's structure drawable: regions and places deduplicated by name (case-insensitive,
 * first wins), places whose region is not listed go to {@link UNASSIGNED_REGION}, routes between
 * places that do not exist (or from a place to itself) are dropped. Counts what it changed.
 */
export function normalizeStructure(structure: MapStructure): MapModel {
  const regions = new Map<string, { name: string; description: string }>();
  for (const r of structure.regions) {
    if (!regions.has(key(r.name)))
      regions.set(key(r.name), { name: r.name.trim(), description: r.description.trim() });
  }
  const places = new Map<string, { name: string; region: string; kind: string }>();
  let duplicatePlaces = 0;
  let placesWithoutRegion = 0;
  for (const p of structure.places) {
    if (places.has(key(p.name))) {
      duplicatePlaces++;
      continue;
    }
    let region = regions.get(key(p.region))?.name;
    if (region === undefined) {
      placesWithoutRegion++;
      if (!regions.has(key(UNASSIGNED_REGION))) {
        regions.set(key(UNASSIGNED_REGION), {
          name: UNASSIGNED_REGION,
          description: 'Places the document did not put in a region.',
        });
      }
      region = regions.get(key(UNASSIGNED_REGION))!.name;
    }
    places.set(key(p.name), { name: p.name.trim(), region, kind: p.kind.trim() });
  }
  const routes: MapModel['routes'] = [];
  const seen = new Set<string>();
  let unknownRoutes = 0;
  for (const r of structure.routes) {
    const from = places.get(key(r.from));
    const to = places.get(key(r.to));
    const id = [key(r.from), key(r.to)].sort().join('\u0000');
    if (!from || !to || from === to || seen.has(id)) {
      unknownRoutes++;
      continue;
    }
    seen.add(id);
    routes.push({ from: from.name, to: to.name, kind: r.kind.trim() });
  }
  return {
    regions: [...regions.values()],
    places: [...places.values()],
    routes,
    dropped: { duplicatePlaces, unknownRoutes, placesWithoutRegion },
  };
}
