/**
 * A TrueType font with no visible glyphs, for the invisible text of a searchable PDF, made
 * the way Tesseract's pdf.ttf is: two empty glyphs (.notdef and one every character maps
 * to), every advance half an em. Text drawn in it is never painted (render mode 3); it is
 * there so that a viewer can select, search and copy, through the font's ToUnicode map.
 * Written here rather than shipped as a binary; it is a few hundred bytes.
 */
export const GLYPHLESS_ADVANCE = 500;
const UNITS_PER_EM = 1000;

export function glyphlessFont(): Buffer {
  const glyphCount = 2;
  // An empty simple glyph: no contours, zero box, no instructions.
  const glyph = Buffer.alloc(12);
  const glyf = Buffer.concat([glyph, glyph]);
  const loca = u16s(0, 6, 12); // short offsets, in units of 2 bytes

  const head = Buffer.alloc(54);
  head.writeUInt32BE(0x00010000, 0); // version
  head.writeUInt32BE(0x00010000, 4); // fontRevision
  head.writeUInt32BE(0, 8); // checkSumAdjustment, set below
  head.writeUInt32BE(0x5f0f3cf5, 12); // magicNumber
  head.writeUInt16BE(0x000b, 16); // flags: baseline at y=0, integer ppem, lsb at x=0
  head.writeUInt16BE(UNITS_PER_EM, 18);
  // created, modified: zero (1904-01-01); the file is the same on every run.
  head.writeInt16BE(0, 36); // xMin
  head.writeInt16BE(0, 38); // yMin
  head.writeInt16BE(GLYPHLESS_ADVANCE, 40); // xMax
  head.writeInt16BE(UNITS_PER_EM, 42); // yMax
  head.writeUInt16BE(0, 44); // macStyle
  head.writeUInt16BE(3, 46); // lowestRecPPEM
  head.writeInt16BE(2, 48); // fontDirectionHint
  head.writeInt16BE(0, 50); // indexToLocFormat: short
  head.writeInt16BE(0, 52); // glyphDataFormat

  const hhea = Buffer.alloc(36);
  hhea.writeUInt32BE(0x00010000, 0);
  hhea.writeInt16BE(UNITS_PER_EM, 4); // ascender
  hhea.writeInt16BE(0, 6); // descender
  hhea.writeInt16BE(0, 8); // lineGap
  hhea.writeUInt16BE(GLYPHLESS_ADVANCE, 10); // advanceWidthMax
  hhea.writeInt16BE(0, 12); // minLeftSideBearing
  hhea.writeInt16BE(0, 14); // minRightSideBearing
  hhea.writeInt16BE(GLYPHLESS_ADVANCE, 16); // xMaxExtent
  hhea.writeInt16BE(1, 18); // caretSlopeRise
  hhea.writeInt16BE(0, 20); // caretSlopeRun
  hhea.writeUInt16BE(glyphCount, 34); // numberOfHMetrics

  const maxp = Buffer.alloc(32);
  maxp.writeUInt32BE(0x00010000, 0);
  maxp.writeUInt16BE(glyphCount, 4);
  maxp.writeUInt16BE(1, 14); // maxZones
  // The other maxima (points, contours, instructions) are all zero.

  const hmtx = u16s(GLYPHLESS_ADVANCE, 0, GLYPHLESS_ADVANCE, 0);

  // A format 4 cmap with only the closing segment: no character maps to a glyph by code;
  // the PDF reaches glyph 1 through its CIDToGIDMap.
  const cmapSubtable = u16s(4, 24, 0, 2, 2, 0, 0, 0xffff, 0, 0xffff, 1, 0);
  const cmap = Buffer.concat([u16s(0, 1, 3, 1), u32s(12), cmapSubtable]);

  const os2 = Buffer.alloc(96);
  os2.writeUInt16BE(4, 0); // version
  os2.writeInt16BE(GLYPHLESS_ADVANCE, 2); // xAvgCharWidth
  os2.writeUInt16BE(400, 4); // usWeightClass
  os2.writeUInt16BE(5, 6); // usWidthClass
  os2.writeUInt16BE(0, 8); // fsType: installable
  os2.writeUInt16BE(0x40, 62); // fsSelection: regular
  os2.writeUInt16BE(0xffff, 64); // usFirstCharIndex
  os2.writeUInt16BE(0xffff, 66); // usLastCharIndex
  os2.writeInt16BE(UNITS_PER_EM, 68); // sTypoAscender
  os2.writeInt16BE(0, 70); // sTypoDescender
  os2.writeUInt16BE(UNITS_PER_EM, 74); // usWinAscent
  os2.writeUInt16BE(0, 76); // usWinDescent
  os2.writeInt16BE(UNITS_PER_EM, 88); // sCapHeight
  os2.writeUInt16BE(1, 94); // usMaxContext

  const post = Buffer.alloc(32);
  post.writeUInt32BE(0x00030000, 0); // version 3: no glyph names
  post.writeUInt32BE(1, 12); // isFixedPitch

  const name = nameTable({ 1: 'GlyphLessFont', 2: 'Regular', 4: 'GlyphLessFont', 6: 'GlyphLessFont' });

  return sfnt({ 'OS/2': os2, cmap, glyf, head, hhea, hmtx, loca, maxp, name, post });
}

function u16s(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => out.writeUInt16BE(v, i * 2));
  return out;
}

function u32s(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeUInt32BE(v, i * 4));
  return out;
}

/** Names in the Windows platform's Unicode encoding (UTF-16BE), enough for any reader. */
function nameTable(names: Record<number, string>): Buffer {
  const entries = Object.entries(names).map(([id, value]) => ({ id: Number(id), data: Buffer.from(value, 'utf16le').swap16() }));
  const header = u16s(0, entries.length, 6 + entries.length * 12);
  let offset = 0;
  const records = entries.map((e) => {
    const record = u16s(3, 1, 0x409, e.id, e.data.length, offset);
    offset += e.data.length;
    return record;
  });
  return Buffer.concat([header, ...records, ...entries.map((e) => e.data)]);
}

function checksum(data: Buffer): number {
  const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
  let sum = 0;
  for (let i = 0; i < padded.length; i += 4) sum = (sum + padded.readUInt32BE(i)) >>> 0;
  return sum;
}

/** The font file: table directory (tags in order), then each table padded to 4 bytes. */
function sfnt(tables: Record<string, Buffer>): Buffer {
  const tags = Object.keys(tables).sort();
  const count = tags.length;
  const power = 2 ** Math.floor(Math.log2(count));
  const header = Buffer.concat([u32s(0x00010000), u16s(count, power * 16, Math.log2(power), count * 16 - power * 16)]);
  const directory = Buffer.alloc(count * 16);
  const bodies: Buffer[] = [];
  let offset = header.length + directory.length;
  tags.forEach((tag, i) => {
    const data = tables[tag];
    directory.write(tag.padEnd(4, ' '), i * 16, 'latin1');
    directory.writeUInt32BE(checksum(data), i * 16 + 4);
    directory.writeUInt32BE(offset, i * 16 + 8);
    directory.writeUInt32BE(data.length, i * 16 + 12);
    const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
    bodies.push(padded);
    offset += padded.length;
  });
  const font = Buffer.concat([header, directory, ...bodies]);
  const headOffset = directory.readUInt32BE(tags.indexOf('head') * 16 + 8);
  font.writeUInt32BE((0xb1b0afba - checksum(font)) >>> 0, headOffset + 8);
  return font;
}
