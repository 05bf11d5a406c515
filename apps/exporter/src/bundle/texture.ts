import { renderAsync } from '@resvg/resvg-js';
import { type ExportQuality } from '@fleet/contracts';

/** The map texture's longest side per quality (documented in the app's README). */
export const TEXTURE_LONGEST_SIDE: Readonly<Record<ExportQuality, number>> = {
  low: 1024,
  medium: 2048,
  high: 4096,
};

/**
 * Fonts come from the system (the image's DejaVu): replicas of one image rasterize identically,
 * which is what byte-identical bundles need; a different font set changes the PNG's bytes, and
 * the manifest's hash says so.
 */
const FONT = { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' };

/**
 * The map's SVG rasterized to PNG by resvg (off the event loop: a 4096² render takes a while), its
 * longest side scaled to the quality's size, the aspect ratio kept. Deterministic for one resvg
 * version and font set.
 */
export async function renderTexture(
  svg: string,
  map: { width: number; height: number },
  quality: ExportQuality,
): Promise<{ png: Buffer; width: number; height: number }> {
  const side = TEXTURE_LONGEST_SIDE[quality];
  const fitTo =
    map.width >= map.height
      ? { mode: 'width' as const, value: side }
      : { mode: 'height' as const, value: side };
  const image = await renderAsync(svg, { fitTo, font: FONT, logLevel: 'off' });
  return { png: image.asPng(), width: image.width, height: image.height };
}
