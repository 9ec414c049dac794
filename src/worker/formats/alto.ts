import { type Box, type PageResult, layoutOf, unionBox } from '../../contract/results';
import { languageCodes } from '../../contract/job-options';
import type { OutputMeta } from './hocr';
import { pageResolution, textAngle, toPixels } from './pixels';
import { xmlEscape } from './xml';

/** ALTO's position attributes for a box in pixels. */
const place = (b: Box) => `HPOS="${b.x0}" VPOS="${b.y0}" WIDTH="${b.x1 - b.x0}" HEIGHT="${b.y1 - b.y0}"`;

function altoHead(meta: OutputMeta, software: { name: string; version: string }): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.loc.gov/standards/alto/ns-v4# http://www.loc.gov/alto/v4/alto-4-4.xsd" SCHEMAVERSION="4.4">
  <Description>
    <MeasurementUnit>pixel</MeasurementUnit>
    <sourceImageInformation>
      <fileName>${xmlEscape(meta.title)}</fileName>
    </sourceImageInformation>
    <Processing ID="ocr">
      <processingCategory>contentGeneration</processingCategory>
      <processingSoftware>
        <softwareName>${xmlEscape(software.name)}</softwareName>
        <softwareVersion>${xmlEscape(software.version)}</softwareVersion>
        <applicationDescription>${xmlEscape(meta.system)}</applicationDescription>
      </processingSoftware>
    </Processing>
  </Description>
  <Layout>
`;
}

/**
 * One ALTO `Page`, in pixels of the page as read (see pixels.ts): a `TextBlock` for each
 * paragraph (as ALTO has no paragraphs), holding its lines, each word a `String` with `WC`
 * (confidence, 0 to 1) when the OCR engine gave one.
 */
export function altoPage(page: PageResult): string {
  const dpi = pageResolution(page);
  const n = page.page;
  const size = toPixels({ x0: 0, y0: 0, x1: page.width, y1: page.height }, dpi);
  const lang = page.language ? ` LANG="${xmlEscape(languageCodes(page.language)[0])}"` : '';
  const out = [
    `    <Page ID="page_${n}" PHYSICAL_IMG_NR="${n}" WIDTH="${size.x1}" HEIGHT="${size.y1}" PROCESSINGREFS="ocr"${lang}>\n`,
    `      <PrintSpace ${place(size)}>\n`,
  ];
  const angle = textAngle(page);
  let l = 0;
  layoutOf(page.lines)
    .flat()
    .forEach((paragraph, p) => {
      const block = toPixels(unionBox(paragraph.map((line) => line.bbox)), dpi);
      out.push(`        <TextBlock ID="block_${n}_${p + 1}" ${place(block)}${angle ? ` ROTATION="${angle}"` : ''}>\n`);
      for (const line of paragraph) {
        l += 1;
        out.push(`          <TextLine ID="line_${n}_${l}" ${place(toPixels(line.bbox, dpi))}>\n`);
        line.words.forEach((word, w) => {
          const box = toPixels(word.bbox, dpi);
          if (w) {
            const previous = toPixels(line.words[w - 1].bbox, dpi);
            out.push(`            <SP HPOS="${previous.x1}" VPOS="${box.y0}" WIDTH="${Math.max(0, box.x0 - previous.x1)}"/>\n`);
          }
          const wc = word.confidence === null ? '' : ` WC="${(Math.round(word.confidence) / 100).toFixed(2)}"`;
          out.push(`            <String ID="string_${n}_${l}_${w + 1}" ${place(box)} CONTENT="${xmlEscape(word.text)}"${wc}/>\n`);
        });
        out.push('          </TextLine>\n');
      }
      out.push('        </TextBlock>\n');
    });
  out.push('      </PrintSpace>\n    </Page>\n');
  return out.join('');
}

/** A whole ALTO file for these pages, in pieces. */
export function* altoDocument(pages: PageResult[], meta: OutputMeta, software: { name: string; version: string }): Generator<string> {
  yield altoHead(meta, software);
  for (const page of pages) yield altoPage(page);
  yield '  </Layout>\n</alto>\n';
}
