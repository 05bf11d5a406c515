import { z } from 'zod';

/**
 * What the LLM makes of a document: regions, the places in them and the routes between places.
 * Plain objects, every field required (strict structured output); bounded so a runaway answer is
 * refused by validation rather than drawn.
 */
export const MapStructureSchema = z.object({
  regions: z
    .array(z.object({ name: z.string().min(1).max(80), description: z.string().max(400) }))
    .min(1)
    .max(40),
  places: z
    .array(
      z.object({
        name: z.string().min(1).max(80),
        region: z.string().min(1).max(80),
        kind: z.string().min(1).max(40),
      }),
    )
    .max(400),
  routes: z
    .array(
      z.object({
        from: z.string().min(1).max(80),
        to: z.string().min(1).max(80),
        kind: z.string().min(1).max(40),
      }),
    )
    .max(800),
});
export type MapStructure = z.infer<typeof MapStructureSchema>;

/** A document section: its heading (if any) and text. */
export interface Section {
  heading: string | null;
  text: string;
}

export interface MapRegion {
  name: string;
  description: string;
}
export interface MapPlace {
  name: string;
  region: string;
  kind: string;
}
export interface MapRoute {
  from: string;
  to: string;
  kind: string;
}

/** A structure whose references all resolve: every place in a listed region, routes between listed places. */
export interface MapModel {
  regions: MapRegion[];
  places: MapPlace[];
  routes: MapRoute[];
  /** What normalization had to change, for the result and the logs. */
  dropped: { duplicatePlaces: number; unknownRoutes: number; placesWithoutRegion: number };
}

/** Where everything is drawn. Coordinates in SVG user units, origin top left. */
export interface PlacedRegion extends MapRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface PlacedPlace extends MapPlace {
  x: number;
  y: number;
}
export interface PlacedRoute extends MapRoute {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}
export interface MapLayout {
  width: number;
  height: number;
  regions: PlacedRegion[];
  places: PlacedPlace[];
  routes: PlacedRoute[];
}
