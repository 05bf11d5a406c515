import { createHash } from 'node:crypto';
import { type MapLayout, type MapModel, type PlacedPlace, type PlacedRegion } from './map-model';

/** Sizes of the layout, in SVG user units. */
export const LAYOUT = {
  margin: 40,
  gap: 40,
  regionWidth: 320,
  regionHeight: 240,
  /** Band at the top of a region for its name. */
  titleBand: 32,
  /** Inset of the places' area inside a region. */
  inset: 16,
} as const;

/**
 * A deterministic pseudo-random sequence (mulberry32) seeded from `seed`'s sha256: the same job
 * lays out the same map on every attempt and every worker.
 */
export function seededRandom(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32BE(0);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Places the model: regions as equal areas on a near-square grid (in the model's order, row by
 * row), each region's places on a grid inside it with a small jitter from the seeded sequence (so
 * the map does not look like a spreadsheet, yet is the same for the same seed), routes as straight
 * lines between their places. No randomness beyond `seed`.
 */
export function layoutMap(model: MapModel, seed: string): MapLayout {
  const random = seededRandom(seed);
  const n = Math.max(1, model.regions.length);
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const { margin, gap, regionWidth, regionHeight, titleBand, inset } = LAYOUT;

  const regions: PlacedRegion[] = model.regions.map((region, i) => ({
    ...region,
    x: margin + (i % cols) * (regionWidth + gap),
    y: margin + Math.floor(i / cols) * (regionHeight + gap),
    width: regionWidth,
    height: regionHeight,
  }));
  const byRegion = new Map(regions.map((r) => [r.name, r]));

  const places: PlacedPlace[] = [];
  for (const region of regions) {
    const members = model.places.filter((p) => p.region === region.name);
    if (members.length === 0) continue;
    const pc = Math.ceil(Math.sqrt(members.length));
    const pr = Math.ceil(members.length / pc);
    const areaX = region.x + inset;
    const areaY = region.y + titleBand + inset;
    const cellW = (region.width - 2 * inset) / pc;
    const cellH = (region.height - titleBand - 2 * inset) / pr;
    members.forEach((place, j) => {
      const jitterX = (random() - 0.5) * cellW * 0.5;
      const jitterY = (random() - 0.5) * cellH * 0.5;
      places.push({
        ...place,
        x: round(areaX + ((j % pc) + 0.5) * cellW + jitterX),
        y: round(areaY + (Math.floor(j / pc) + 0.5) * cellH + jitterY),
      });
    });
  }
  // Places of a region that is not in the model cannot happen after normalization; keep them visible anyway.
  for (const place of model.places) {
    if (!byRegion.has(place.region)) places.push({ ...place, x: margin, y: margin });
  }

  const at = new Map(places.map((p) => [p.name, p]));
  const routes = model.routes.flatMap((route) => {
    const from = at.get(route.from);
    const to = at.get(route.to);
    return from && to ? [{ ...route, x1: from.x, y1: from.y, x2: to.x, y2: to.y }] : [];
  });

  return {
    width: 2 * margin + cols * regionWidth + (cols - 1) * gap,
    height: 2 * margin + rows * regionHeight + (rows - 1) * gap,
    regions,
    places,
    routes,
  };
}
