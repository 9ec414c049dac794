/** How a page is rasterised for OCR: the scale, or why it cannot be. */
export type RasterPlan = { ok: true; scale: number; width: number; height: number } | { ok: false; dpi: number };

/**
 * Aims for `dpi`, but never more than `maxPixels`; a page so large that the cap would
 * push it below `minDpi` cannot be OCR'd usefully (and is often a decompression bomb).
 */
export function planRaster(widthPt: number, heightPt: number, dpi: number, maxPixels: number, minDpi: number): RasterPlan {
  let scale = dpi / 72;
  const pixels = widthPt * scale * heightPt * scale;
  if (pixels > maxPixels) scale *= Math.sqrt(maxPixels / pixels);
  const effectiveDpi = scale * 72;
  if (effectiveDpi < minDpi || !Number.isFinite(scale)) return { ok: false, dpi: Math.round(effectiveDpi * 10) / 10 };
  return { ok: true, scale, width: Math.max(1, Math.floor(widthPt * scale)), height: Math.max(1, Math.floor(heightPt * scale)) };
}

/** The same PGM turned by 180 degrees: its pixel bytes in reverse order. */
export function turnPgm(pgm: Buffer, width: number, height: number): Buffer {
  const turned = Buffer.from(pgm);
  turned.subarray(pgm.length - width * height).reverse();
  return turned;
}

/**
 * RGBA pixels to a binary PGM (P5) image. Tesseract reads PNM directly, and this costs
 * a few milliseconds where PNG encoding costs hundreds.
 */
export function rgbaToPgm(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): Buffer {
  const header = Buffer.from(`P5\n${width} ${height}\n255\n`, 'ascii');
  const out = Buffer.allocUnsafe(header.length + width * height);
  header.copy(out);
  let o = header.length;
  for (let i = 0; i < width * height * 4; i += 4) {
    // ITU-R BT.601 luma in integer arithmetic.
    out[o++] = (rgba[i] * 77 + rgba[i + 1] * 150 + rgba[i + 2] * 29) >> 8;
  }
  return out;
}
