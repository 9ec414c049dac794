/**
 * Hostile PDFs, made by the tests: each aims at one limit of the worker. Written by hand
 * where pdf-lib would refuse to write something so broken.
 */
import { readFileSync } from 'node:fs';
import { crc32, createDeflate, deflateSync } from 'node:zlib';
import { PDFDocument, rgb } from 'pdf-lib';
import { encryptedPdf, textImagePng, truncatedPdf } from './fixtures';

/** A PDF from object bodies (object n is objects[n - 1]; a Buffer body is a stream's data, with its dictionary before it). */
export function handWrittenPdf(objects: (string | { dict: string; data: Buffer })[]): Buffer {
  const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = chunks[0].length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    const chunk =
      typeof body === 'string'
        ? Buffer.from(`${i + 1} 0 obj\n${body}\nendobj\n`)
        : Buffer.concat([
            Buffer.from(`${i + 1} 0 obj\n<< ${body.dict} /Length ${body.data.length} >>\nstream\n`),
            body.data,
            Buffer.from('\nendstream\nendobj\n'),
          ]);
    chunks.push(chunk);
    length += chunk.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`, ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)];
  chunks.push(Buffer.from(`${xref.join('')}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`));
  return Buffer.concat(chunks);
}

/** `bytes` of `fill`, deflated twice: a gigabyte fits in a few kilobytes. Streamed, never held whole. */
async function doubleDeflated(bytes: number, fill: number): Promise<Buffer> {
  const deflate = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  const chunk = Buffer.alloc(1024 * 1024, fill);
  for (let left = bytes; left > 0; left -= chunk.length) {
    if (!deflate.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  return deflateSync(Buffer.concat(out), { level: 9 });
}

const page = (contents: string, size = '[0 0 612 792]', resources = '<< >>') =>
  `<< /Type /Page /Parent 2 0 R /MediaBox ${size} /Contents ${contents} /Resources ${resources} >>`;

/** A content stream that inflates to `bytes` of spaces (a decompression bomb): the file is a few kilobytes. */
export async function flateBombPdf(bytes = 1024 ** 3): Promise<Buffer> {
  return handWrittenPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    page('4 0 R'),
    { dict: '/Filter [/FlateDecode /FlateDecode]', data: await doubleDeflated(bytes, 0x20) },
  ]);
}

/** A 35000 x 35000 px grey image (1.2 Gpx) drawn on a letter page, in a file of a few kilobytes. */
export async function hugeImagePdf(side = 35_000): Promise<Buffer> {
  return handWrittenPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    page('4 0 R', '[0 0 612 792]', '<< /XObject << /Im1 5 0 R >> >>'),
    { dict: '', data: Buffer.from('q 612 0 0 792 0 0 cm /Im1 Do Q') },
    {
      dict: `/Type /XObject /Subtype /Image /Width ${side} /Height ${side} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter [/FlateDecode /FlateDecode]`,
      data: await doubleDeflated(side * side, 0xff),
    },
  ]);
}

/** A page tree whose node lists itself as its own kid. */
export function pageTreeLoopPdf(): Buffer {
  return handWrittenPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>',
    page('4 0 R'),
    { dict: '', data: Buffer.from('') },
  ]);
}

/** A 200 x 200 inch page (14400 pt square) with no text: at any useful resolution, billions of pixels. */
export async function hugePagePdf(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const p = pdf.addPage([14_400, 14_400]);
  p.drawRectangle({ x: 100, y: 100, width: 5000, height: 5000, color: rgb(0, 0, 0) });
  return Buffer.from(await pdf.save());
}

/** `count` blank pages sharing one content stream. */
export function manyPagesPdf(count = 10_000): Buffer {
  const first = 4;
  const kids = Array.from({ length: count }, (_, i) => `${first + i} 0 R`).join(' ');
  return handWrittenPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${kids}] /Count ${count} >>`,
    { dict: '', data: Buffer.from('') },
    ...Array.from({ length: count }, () => page('3 0 R')),
  ]);
}

/** Every generated hostile case: what it is, its bytes, and how it must end. */
export async function hostileCases(): Promise<{ name: string; file: Buffer; expected: string }[]> {
  return [
    { name: 'zero bytes', file: Buffer.alloc(0), expected: '422 pdf_empty' },
    { name: 'truncated', file: await truncatedPdf(), expected: 'failed pdf_invalid' },
    {
      name: 'neither a PDF nor an image',
      file: Buffer.from('<!doctype html><title>x</title><p>not a pdf</p>'),
      expected: '415 unsupported_media_type',
    },
    { name: 'an image named .pdf', file: textImagePng(['an image named pdf']), expected: 'completed' },
    { name: 'a 1 KB PNG declaring 100000 x 100000 px', file: bombPng(), expected: 'failed page_too_large' },
    { name: 'encrypted', file: encryptedPdf(), expected: 'failed pdf_encrypted' },
    { name: '200 x 200 inch page', file: await hugePagePdf(), expected: 'failed page_too_large' },
    { name: 'Flate bomb in a content stream', file: await flateBombPdf(), expected: 'failed page_too_large' },
    { name: '35000 x 35000 px image', file: await hugeImagePdf(), expected: 'failed page_too_large' },
    { name: 'page-tree loop', file: pageTreeLoopPdf(), expected: 'failed pdf_invalid' },
    { name: '10000 pages', file: manyPagesPdf(), expected: 'failed too_many_pages' },
  ];
}

/**
 * A PDF that takes minutes to open, whatever the machine, in a file of 700 KB: its xref is
 * broken (so pdf.js rebuilds it by scanning the file), and each of its `trailers` trailer
 * dictionaries holds a string that nests every later one, so reading them all costs the
 * square of their number (here 1000 took 2 s and 4000 took 23 s: 20000 would take ten
 * minutes). Only a time limit stops it; what it holds meanwhile grows by some 12 MB a second.
 */
export function slowToOpenPdf(trailers = 20_000): Buffer {
  return Buffer.from(
    [
      '%PDF-1.7\n',
      '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n',
      '2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n',
      '3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n',
      // "startxref" ends each trailer for the scan; the string runs on to its closing paren.
      'trailer\n<< /S (startxref\n'.repeat(trailers),
      // Two tokens after each ">>": pdf.js's parser reads two ahead, and a bare ")" would end it at once.
      ') >> 0 0\n'.repeat(trailers),
      'trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n999999999\n%%EOF\n',
    ].join(''),
  );
}

/**
 * A letter page that takes minutes to render, whatever the machine, in a file of a few KB: one
 * free-form triangle mesh shading (type 4) of `triangles` triangles, each across the whole
 * page, which pdf.js fills pixel by pixel in JavaScript (about 40 ms each at 300 dpi here).
 * Its memory stays small (the mesh is a few MB, the pattern canvas at most 3000 px a side).
 */
export function slowToRenderPdf(triangles = 100_000): Buffer {
  // Per vertex: flag (8 bits), x and y (16 each, over the page), grey (8). Flag 2: a triangle of the new vertex and the last two.
  const corners = [
    [0, 0],
    [0xffff, 0],
    [0, 0xffff],
    [0xffff, 0xffff],
  ];
  const vertex = (flag: number, [x, y]: number[], grey: number) => Buffer.from([flag, x >> 8, x & 0xff, y >> 8, y & 0xff, grey]);
  const vertices = [vertex(0, corners[0], 0), vertex(0, corners[1], 128), vertex(0, corners[2], 255)];
  for (let i = 1; i < triangles; i++) vertices.push(vertex(2, corners[i % 2 ? 3 : 1], (i * 37) & 0xff));
  return handWrittenPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    page('4 0 R', '[0 0 612 792]', '<< /Shading << /Sh1 5 0 R >> >>'),
    { dict: '', data: Buffer.from('/Sh1 sh') },
    {
      dict: '/ShadingType 4 /ColorSpace /DeviceGray /BitsPerCoordinate 16 /BitsPerComponent 8 /BitsPerFlag 8 /Decode [0 612 0 792 0 1] /Filter /FlateDecode',
      data: deflateSync(Buffer.concat(vertices), { level: 9 }),
    },
  ]);
}

/** Peak and current resident memory of a process, in MiB, from /proc. */
export function memoryOf(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMb: Math.round(kb('VmHWM') / 1024), rssMb: Math.round(kb('VmRSS') / 1024) };
}

/** A PNG that says it is 100000 x 100000 px in a few bytes: a decompression bomb's header. */
export function bombPng(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(100_000, 0);
  ihdr.writeUInt32BE(100_000, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1000))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
