import type { Box, PageResult } from '../../contract/results';

/**
 * hOCR and ALTO speak in pixels of the page as it was read: an OCR'd page at its render
 * resolution, a text-layer page (never rendered) at 72 dpi, where a pixel is a PDF point.
 */
export function pageResolution(page: PageResult): number {
  return page.dpi ?? 72;
}

export function toPixels(box: Box, dpi: number): Box {
  const k = dpi / 72;
  return { x0: Math.round(box.x0 * k), y0: Math.round(box.y0 * k), x1: Math.round(box.x1 * k), y1: Math.round(box.y1 * k) };
}

/** Degrees counter-clockwise that the page's text runs at, from the turn it needed to read upright. */
export function textAngle(page: PageResult): number {
  return page.rotation;
}
