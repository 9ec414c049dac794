import type { Grey } from './raster';

/** A 2-D affine matrix as pdf.js writes them: [a, b, c, d, e, f]. */
export type Matrix = [number, number, number, number, number, number];

/** The operator numbers this module reads (pdf.js' OPS), passed in so that it needs no pdf.js. */
export interface Ops {
  save: number;
  restore: number;
  transform: number;
  paintImageXObject: number;
  setGState: number;
}

/**
 * Operators that paint nothing and change nothing an image's pixels show: marked content,
 * resource dependencies. Anything else (text, paths, clips, shadings, masks, graphics states
 * that could set transparency or blending) makes the page one that must be rendered.
 */
const HARMLESS = new Set(['dependency', 'beginMarkedContent', 'beginMarkedContentProps', 'endMarkedContent']);

/**
 * Graphics state entries that leave an image's pixels as they are: line and font settings
 * whatever their value, and transparency only at its defaults (OCRmyPDF and scanners write
 * `/SMask /None` and `/BM /Normal`). A transfer function, an alpha or a blend mode renders.
 */
function harmlessState(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  return entries.every((entry) => {
    if (!Array.isArray(entry)) return false;
    const [key, value] = entry as [string, unknown];
    if (['LW', 'LC', 'LJ', 'ML', 'D', 'RI', 'FL', 'Font', 'SA', 'OP', 'op', 'OPM'].includes(key)) return true;
    if (key === 'SMask') return value === false;
    if (key === 'BM') return value === 'source-over';
    if (key === 'ca' || key === 'CA') return value === 1;
    return false;
  });
}

export interface PageImage {
  objId: string;
  /** Maps the image's unit square onto PDF user space, as the page drew it. */
  ctm: Matrix;
}

/**
 * The page's only image and where it is drawn, when the operator list paints exactly one
 * image XObject and nothing else; null for every other page (the render path).
 */
export function soleImage(fnArray: ArrayLike<number>, argsArray: ArrayLike<unknown>, ops: Ops & Record<string, number>): PageImage | null {
  const harmless = new Set([...HARMLESS].map((name) => ops[name]).filter((n) => n !== undefined));
  const stack: Matrix[] = [];
  let ctm: Matrix = [1, 0, 0, 1, 0, 0];
  let found: PageImage | null = null;
  for (let i = 0; i < fnArray.length; i++) {
    const fn = fnArray[i];
    const args = argsArray[i] as unknown[] | null;
    if (fn === ops.save) stack.push(ctm);
    else if (fn === ops.restore) ctm = stack.pop() ?? ctm;
    else if (fn === ops.transform) ctm = multiply(ctm, args as Matrix);
    else if (fn === ops.setGState) {
      if (!harmlessState(args?.[0])) return null;
    } else if (fn === ops.paintImageXObject) {
      if (found || typeof args?.[0] !== 'string') return null;
      found = { objId: args[0], ctm };
    } else if (!harmless.has(fn)) return null;
  }
  return found;
}

/** m1 then m2 applied as PDF concatenates: the result maps through m2 first, then m1 (pdf.js Util.transform). */
export function multiply(m1: Matrix, m2: Matrix): Matrix {
  return [
    m1[0] * m2[0] + m1[2] * m2[1],
    m1[1] * m2[0] + m1[3] * m2[1],
    m1[0] * m2[2] + m1[2] * m2[3],
    m1[1] * m2[2] + m1[3] * m2[3],
    m1[0] * m2[4] + m1[2] * m2[5] + m1[4],
    m1[1] * m2[4] + m1[3] * m2[5] + m1[5],
  ];
}

/** pdf.js' decoded image (page.objs): packed 1-bit rows, RGB or RGBA. */
export interface DecodedImage {
  width: number;
  height: number;
  kind: number;
  data: Uint8Array | Uint8ClampedArray;
  /** The image's /Interpolate: pdf.js smooths it whatever its scale. */
  interpolate?: boolean;
}
export const KIND_1BPP = 1;
export const KIND_RGB = 2;
const KIND_RGBA = 3;

/** The image as one grey byte per pixel (1-bit stays black and white, no colour conversion); null for a form pdf.js did not give as pixels. */
export function greyPixels(image: DecodedImage): Uint8Array | null {
  const { width: w, height: h, kind, data } = image;
  if (!data || !(w > 0) || !(h > 0)) return null;
  const out = new Uint8Array(w * h);
  if (kind === KIND_1BPP) {
    // pdf.js has applied /Decode already: a set bit is white.
    const stride = (w + 7) >> 3;
    if (data.length < stride * h) return null;
    for (let y = 0; y < h; y++) {
      const row = y * stride;
      const o = y * w;
      for (let x = 0; x < w; x++) out[o + x] = data[row + (x >> 3)] & (128 >> (x & 7)) ? 255 : 0;
    }
    return out;
  }
  const channels = kind === KIND_RGB ? 3 : kind === KIND_RGBA ? 4 : 0;
  if (!channels || data.length < w * h * channels) return null;
  for (let i = 0, s = 0; i < w * h; i++, s += channels) {
    // The same luma as rgbaToPgm; transparent pixels over the white page.
    const luma = (data[s] * 77 + data[s + 1] * 150 + data[s + 2] * 29) >> 8;
    out[i] = channels === 4 ? (255 - ((255 - luma) * data[s + 3] + 127) / 255) | 0 : luma;
  }
  return out;
}

/** How each page pixel was made from the image's: a copy of one (so a 1-bit image stays black and white), or a blend. */
export interface Placed extends Grey {
  sampling: 'nearest' | 'bilinear' | 'mean';
}

/**
 * The page as the render path would see it, `width` x `height` pixels under `view` (the
 * viewport's transform at the render scale: crop box, /Rotate and scale), painted from the
 * image's own pixels only: white where the image is not, the image mapped through its own
 * transform. Where the image is denser than the page (two or more image pixels per page
 * pixel), each page pixel is the mean of those it covers. Otherwise pdf.js' rule decides:
 * an image enlarged by more than 4/3 and not marked /Interpolate is painted without
 * smoothing, so each page pixel takes the image pixel under its centre; any other is
 * smoothed, here bilinearly. Null when the image is not drawn upright or sideways (a skewed
 * or sheared placement is left to the renderer).
 */
export function placeImage(
  pixels: Uint8Array,
  iw: number,
  ih: number,
  ctm: Matrix,
  view: Matrix,
  width: number,
  height: number,
  interpolate = false,
): Placed | null {
  // Image pixel (u, v), v downwards from the top row, to the image's unit square, to the page.
  const m = multiply(multiply(view, ctm), [1 / iw, 0, 0, -1 / ih, 0, 1]);
  const [a, b, c, d, e, f] = m;
  const eps = 1e-6 * (Math.abs(a) + Math.abs(b) + Math.abs(c) + Math.abs(d));
  const upright = Math.abs(b) <= eps && Math.abs(c) <= eps;
  const sideways = Math.abs(a) <= eps && Math.abs(d) <= eps;
  if (!upright && !sideways) return null;
  const det = a * d - b * c;
  if (!Number.isFinite(det) || det === 0) return null;
  // The inverse: page pixel (x, y) to image pixel (u, v).
  const ia = d / det;
  const ib = -b / det;
  const ic = -c / det;
  const id = a / det;
  const ie = (c * f - d * e) / det;
  const iff = (b * e - a * f) / det;
  // Image pixels per page pixel along the page's x and y.
  const stepX = Math.hypot(ia, ib);
  const stepY = Math.hypot(ic, id);
  const kx = Math.max(1, Math.round(stepX));
  const ky = Math.max(1, Math.round(stepY));

  const header = Buffer.from(`P5\n${width} ${height}\n255\n`, 'ascii');
  const pgm = Buffer.alloc(header.length + width * height, 255);
  header.copy(pgm);
  const dst = pgm.subarray(header.length);
  // One image pixel per page pixel, on the pixel grid: smoothing would give each page pixel its own image pixel anyway.
  const aligned = [stepX, stepY].every((step) => Math.abs(step - 1) < 1e-6) && [ie, iff].every((o) => Math.abs(o - Math.round(o)) < 1e-6);
  const smooth = !aligned && (interpolate || (stepX >= SMOOTHED_FROM && stepY >= SMOOTHED_FROM));
  if (kx === 1 && ky === 1 && smooth) {
    // Each page column and row to the image axis it runs along (u across, v down, swapped for a sideways image).
    const cols = taps(width, (x) => (upright ? ia * x + ie : ib * x + iff), upright ? iw : ih);
    const rows = taps(height, (y) => (upright ? id * y + iff : ic * y + ie), upright ? ih : iw);
    const [us, vs] = upright ? [cols, rows] : [rows, cols];
    for (let y = 0; y < height; y++) {
      if (!rows.inside[y]) continue;
      const o = y * width;
      for (let x = 0; x < width; x++) {
        if (!cols.inside[x]) continue;
        const iu = upright ? x : y;
        const iv = upright ? y : x;
        const u0 = us.lo[iu];
        const u1 = us.hi[iu];
        const wu = us.weight[iu];
        const r0 = vs.lo[iv] * iw;
        const r1 = vs.hi[iv] * iw;
        const wv = vs.weight[iv];
        const top = pixels[r0 + u0] + (pixels[r0 + u1] - pixels[r0 + u0]) * wu;
        const bottom = pixels[r1 + u0] + (pixels[r1 + u1] - pixels[r1 + u0]) * wu;
        dst[o + x] = Math.round(top + (bottom - top) * wv);
      }
    }
    return { pgm, width, height, sampling: 'bilinear' };
  }
  if (kx === 1 && ky === 1) {
    // Nearest pixel: the image pixel's index splits into a part from the page column and one
    // from the page row (which part is which depends on the turn), so the loop only adds.
    const colOff = new Int32Array(width);
    const rowOff = new Int32Array(height);
    for (let x = 0; x < width; x++) {
      const px = x + 0.5;
      colOff[x] = upright ? index(ia * px + ie, iw, 1) : index(ib * px + iff, ih, iw);
    }
    for (let y = 0; y < height; y++) {
      const py = y + 0.5;
      rowOff[y] = upright ? index(id * py + iff, ih, iw) : index(ic * py + ie, iw, 1);
    }
    for (let y = 0; y < height; y++) {
      const r = rowOff[y];
      if (r < 0) continue;
      const o = y * width;
      for (let x = 0; x < width; x++) {
        const c = colOff[x];
        if (c >= 0) dst[o + x] = pixels[r + c];
      }
    }
    return { pgm, width, height, sampling: 'nearest' };
  }
  for (let y = 0; y < height; y++) {
    const py = y + 0.5;
    for (let x = 0; x < width; x++) {
      const px = x + 0.5;
      const u = ia * px + ic * py + ie;
      const v = ib * px + id * py + iff;
      if (u < 0 || v < 0 || u >= iw || v >= ih) continue;
      // The footprint of this page pixel in the image, in the image's own axes.
      const [ku, kv] = upright ? [kx, ky] : [ky, kx];
      // The epsilon: a scale such as 8 comes out as 7.99999... in floating point, which would shift the footprint by a pixel.
      const u0 = Math.max(0, Math.floor(u - ku / 2 + 1e-6));
      const v0 = Math.max(0, Math.floor(v - kv / 2 + 1e-6));
      const u1 = Math.min(iw, u0 + ku);
      const v1 = Math.min(ih, v0 + kv);
      let sum = 0;
      for (let vv = v0; vv < v1; vv++) for (let uu = u0; uu < u1; uu++) sum += pixels[vv * iw + uu];
      dst[y * width + x] = Math.round(sum / ((u1 - u0) * (v1 - v0)));
    }
  }
  return { pgm, width, height, sampling: 'mean' };
}

/** pdf.js smooths an image drawn at most 4/3 device pixels per image pixel: at least 3/4 of an image pixel per page pixel. */
const SMOOTHED_FROM = 3 / 4;

/**
 * For each of `n` page pixels, the two image pixels along one axis that bilinear sampling
 * blends (clamped at the image's edges) and the second one's weight; `inside` where the
 * page pixel's centre falls on the image at all.
 */
function taps(n: number, coordinate: (centre: number) => number, size: number) {
  const lo = new Int32Array(n);
  const hi = new Int32Array(n);
  const weight = new Float32Array(n);
  const inside = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = coordinate(i + 0.5);
    if (!(c >= 0 && c < size)) continue;
    inside[i] = 1;
    // Pixel centres sit at half-integers.
    const t = c - 0.5;
    const f = Math.floor(t);
    lo[i] = Math.min(size - 1, Math.max(0, f));
    hi[i] = Math.min(size - 1, Math.max(0, f + 1));
    weight[i] = t - f;
  }
  return { lo, hi, weight, inside };
}

/** An image coordinate's pixel times `stride`, or -1 outside the image's `size` pixels. */
const index = (coordinate: number, size: number, stride: number) =>
  coordinate >= 0 && coordinate < size ? Math.floor(coordinate) * stride : -1;

/** The image's resolution as placed on the page, in dpi along its rows (for the log). */
export function imageDpi(iw: number, ctm: Matrix): number {
  return (iw / Math.hypot(ctm[0], ctm[1])) * 72;
}
